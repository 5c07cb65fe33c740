package dev.weightsonly.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The model of gen_models.py's {@code SmallResNet}, in DJL blocks: a stem (conv, batch norm, ReLU), one residual
 * block of two conv + batch norm, a global average pool and a linear head. Child names are PyTorch's, so
 * {@link ParameterNames} gives the state dict's keys.
 */
final class SmallResNet extends AbstractBlock {

    private final Block stem;
    private final Block layer1;
    private final Block fc;

    SmallResNet() {
        stem = addChildBlock("stem", new SequentialBlock()
                .add(conv(8, true))
                .add(BatchNorm.builder().build())
                .add(Activation::relu));
        layer1 = addChildBlock("layer1", new SequentialBlock().add(new Residual()));
        fc = addChildBlock("fc", Linear.builder().setUnits(10).build());
    }

    static Conv2d conv(int filters, boolean bias) {
        return Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(filters)
                .optBias(bias).build();
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = layer1.forward(store, stem.forward(store, inputs, training), training).singletonOrThrow();
        // x.mean(dim=(2, 3)): DJL's PyTorch engine averages over one axis at a time, so flatten H and W first
        NDArray pooled = x.reshape(x.getShape().get(0), x.getShape().get(1), -1).mean(new int[] {2});
        return fc.forward(store, new NDList(pooled), training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return new Shape[] {new Shape(inputs[0].get(0), 10)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        stem.initialize(manager, dataType, inputShapes);
        Shape features = stem.getOutputShapes(inputShapes)[0];
        layer1.initialize(manager, dataType, features);
        fc.initialize(manager, dataType, new Shape(features.get(0), features.get(1)));
    }

    /** conv1, bn1, conv2, bn2 with an identity shortcut: relu(x + bn2(conv2(relu(bn1(conv1(x)))))). */
    static final class Residual extends AbstractBlock {
        private final Block conv1;
        private final Block bn1;
        private final Block conv2;
        private final Block bn2;

        Residual() {
            conv1 = addChildBlock("conv1", conv(8, false));
            bn1 = addChildBlock("bn1", BatchNorm.builder().build());
            conv2 = addChildBlock("conv2", conv(8, false));
            bn2 = addChildBlock("bn2", BatchNorm.builder().build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                PairList<String, Object> params) {
            NDList y = conv1.forward(store, inputs, training);
            y = new NDList(Activation.relu(bn1.forward(store, y, training).singletonOrThrow()));
            y = bn2.forward(store, conv2.forward(store, y, training), training);
            return new NDList(Activation.relu(inputs.singletonOrThrow().add(y.singletonOrThrow())));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return inputs;
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            for (Block child : new Block[] {conv1, bn1, conv2, bn2}) {
                child.initialize(manager, dataType, inputShapes);
            }
        }
    }
}
