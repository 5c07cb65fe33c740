/**
 * The canonical JSON dump of a loaded checkpoint ({@code docs/canonical-dump.md}), the form in which the
 * Java loader and real PyTorch are compared.
 */
package dev.weightsonly.dump;
