/**
 * Machinery (not exported): checkpoint containers: where each record's bytes are. {@link ZipArchive} reads
 * torch's zip format through the central directory and hands out slices of the file, never copies.
 */
package dev.weightsonly.internal.container;
