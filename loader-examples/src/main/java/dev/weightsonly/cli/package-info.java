/** The {@code weightsonly} command-line tool ({@link dev.weightsonly.cli.WeightsOnlyCommand}). */
package dev.weightsonly.cli;
