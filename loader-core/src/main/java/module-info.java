/**
 * weightsonly core: loads PyTorch checkpoints as {@code torch.load(f, weights_only=True)} does, without
 * ever executing code, into zero-copy tensor views. Start at {@link dev.weightsonly.Checkpoint}.
 */
module dev.weightsonly.core {
    requires transitive dev.weightsonly.tensors;
    requires java.management;
    requires org.apache.commons.compress;
    requires org.slf4j;

    // The API: everything a caller loads, meets in a loaded tree, writes or scans with.
    exports dev.weightsonly;
    exports dev.weightsonly.python;
    exports dev.weightsonly.torch;
    exports dev.weightsonly.dump;
    exports dev.weightsonly.scan;
    exports dev.weightsonly.writer;

    // The machinery (dev.weightsonly.internal.*) is not exported. The command-line tool lives in this
    // project and shares a few of its helpers rather than copying them:
    // - JsonText: the JSON string quoting of the dump, so that the tool's JSON output quotes alike;
    exports dev.weightsonly.internal.dump to dev.weightsonly.examples;
    // - Sha256: the digest that LoadOptions.expectSha256 checks, for verify's --sha256;
    exports dev.weightsonly.internal.io to dev.weightsonly.examples;
}
