/**
 * weightsonly core: loads PyTorch checkpoints as {@code torch.load(f, weights_only=True)} does, without
 * ever executing code, into zero-copy tensor views. Start at {@link dev.weightsonly.Checkpoint}.
 */
module dev.weightsonly.core {
    requires transitive dev.weightsonly.tensors;
    requires org.apache.commons.compress;
    requires org.slf4j;

    exports dev.weightsonly;
    exports dev.weightsonly.pickle;
    exports dev.weightsonly.torch;
    exports dev.weightsonly.container;
    exports dev.weightsonly.dump;
    exports dev.weightsonly.scan;
    exports dev.weightsonly.safetensors;
    exports dev.weightsonly.writer;
}
