/**
 * The public face of weightsonly: {@link dev.weightsonly.Checkpoint#load(java.nio.file.Path)} loads a
 * {@code torch.save} file the way {@code torch.load(f, weights_only=True)} does, never executing code,
 * and hands back tensor views over the mapped file. {@link dev.weightsonly.LoadOptions} and
 * {@link dev.weightsonly.LoadLimits} tune one load; every failure is a
 * {@link dev.weightsonly.CheckpointException}.
 *
 * <p>A file's journey: the container ({@code dev.weightsonly.internal.container}) finds the records; the
 * restricted unpickler ({@code dev.weightsonly.internal.pickle}) turns {@code data.pkl} into Python values
 * ({@link dev.weightsonly.python}), asking torch's rules ({@code dev.weightsonly.internal.torch}) about every
 * global, storage and rebuild; the result is the object tree. The {@code internal} packages are not exported.
 */
package dev.weightsonly;
