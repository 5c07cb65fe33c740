/** Runnable examples of the weightsonly API, each a main class with a test. */
package dev.weightsonly.examples;
