/**
 * Machinery (not exported): the restricted pickle machine ({@link dev.weightsonly.internal.pickle.Unpickler}).
 * Every opcode of protocols 0 to 5 with a data-only meaning is read; globals, persistent ids and BUILD on
 * foreign objects are decided by an {@link dev.weightsonly.internal.pickle.UnpicklerHost}. It builds the
 * values of {@link dev.weightsonly.python}.
 */
package dev.weightsonly.internal.pickle;
