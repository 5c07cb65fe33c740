/**
 * Checkpoint containers: where each record's bytes are. {@link dev.weightsonly.container.ZipArchive} reads
 * torch's zip format through the central directory and hands out slices of the file, never copies.
 */
package dev.weightsonly.container;
