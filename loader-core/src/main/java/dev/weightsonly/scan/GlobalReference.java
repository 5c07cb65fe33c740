package dev.weightsonly.scan;

/**
 * One global named by a pickle.
 *
 * @param name    {@code module.name} after the Python 2 name mapping, or a description when the name is
 *                computed at run time and cannot be known without running the pickle
 * @param record  the pickle it is in ({@code archive/data.pkl}, or {@code pickle 1} in a plain stream)
 * @param offset  byte offset of the opcode in that pickle
 * @param opcode  GLOBAL, STACK_GLOBAL, INST, EXT1/2/4, or PERSID (the class a protocol 0 text persistent id names)
 * @param verdict what a load would do with it
 * @param reason  why it is dangerous, or null
 */
public record GlobalReference(String name, String record, long offset, String opcode, Verdict verdict, String reason) {
}
