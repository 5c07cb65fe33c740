package dev.weightsonly.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * PyTorch's {@code nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0, batch_first=True)} in
 * eval mode, in DJL blocks: post-norm, ReLU feed-forward. Its keys are PyTorch's: {@code self_attn.in_proj_weight},
 * {@code self_attn.out_proj.weight}, {@code linear1.weight}, {@code norm1.weight}, ...
 */
final class EncoderLayer extends AbstractBlock {

    private final SelfAttention selfAttention;
    private final Block linear1;
    private final Block linear2;
    private final Block norm1;
    private final Block norm2;

    EncoderLayer(int model, int heads, int feedForward) {
        selfAttention = addChildBlock("self_attn", new SelfAttention(model, heads));
        linear1 = addChildBlock("linear1", Linear.builder().setUnits(feedForward).build());
        linear2 = addChildBlock("linear2", Linear.builder().setUnits(model).build());
        norm1 = addChildBlock("norm1", LayerNorm.builder().axis(2).build());
        norm2 = addChildBlock("norm2", LayerNorm.builder().axis(2).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray attended = selfAttention.forward(store, inputs, training).singletonOrThrow();
        x = norm1.forward(store, new NDList(x.add(attended)), training).singletonOrThrow();
        NDArray hidden = Activation.relu(linear1.forward(store, new NDList(x), training).singletonOrThrow());
        NDArray ff = linear2.forward(store, new NDList(hidden), training).singletonOrThrow();
        return norm2.forward(store, new NDList(x.add(ff)), training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return inputs;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        selfAttention.initialize(manager, dataType, x);
        linear1.initialize(manager, dataType, x);
        linear2.initialize(manager, dataType, linear1.getOutputShapes(new Shape[] {x}));
        norm1.initialize(manager, dataType, x);
        norm2.initialize(manager, dataType, x);
    }

    /** {@code nn.MultiheadAttention} with packed q, k, v projections ({@code in_proj_*}) and {@code out_proj}. */
    static final class SelfAttention extends AbstractBlock {
        private final int model;
        private final int heads;
        private final Parameter inProjWeight;
        private final Parameter inProjBias;
        private final Block outProj;

        SelfAttention(int model, int heads) {
            this.model = model;
            this.heads = heads;
            inProjWeight = addParameter(Parameter.builder().setName("in_proj_weight")
                    .setType(Parameter.Type.WEIGHT).optShape(new Shape(3L * model, model)).build());
            inProjBias = addParameter(Parameter.builder().setName("in_proj_bias")
                    .setType(Parameter.Type.BIAS).optShape(new Shape(3L * model)).build());
            outProj = addChildBlock("out_proj", Linear.builder().setUnits(model).build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                PairList<String, Object> params) {
            NDArray x = inputs.singletonOrThrow();
            long batch = x.getShape().get(0);
            long length = x.getShape().get(1);
            long headSize = model / heads;
            NDArray w = store.getValue(inProjWeight, x.getDevice(), training);
            NDArray b = store.getValue(inProjBias, x.getDevice(), training);
            NDList qkv = x.matMul(w.transpose()).add(b).split(3, 2);
            NDArray[] split = new NDArray[3];
            for (int i = 0; i < 3; i++) {
                split[i] = qkv.get(i).reshape(batch, length, heads, headSize).transpose(0, 2, 1, 3);
            }
            NDArray scores = split[0].matMul(split[1].transpose(0, 1, 3, 2)).div(Math.sqrt(headSize));
            NDArray attended = scores.softmax(-1).matMul(split[2]).transpose(0, 2, 1, 3)
                    .reshape(batch, length, model);
            return outProj.forward(store, new NDList(attended), training);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return inputs;
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            outProj.initialize(manager, dataType, inputShapes);
        }
    }
}
