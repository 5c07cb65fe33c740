package dev.weightsonly.internal.torch;

/**
 * The torch functions (and the one class, Parameter) that the default allowlist
 * ({@link dev.weightsonly.internal.globals.TorchAllowlist}) lets a pickle call.
 */
public enum TorchFunction {
    REBUILD_TENSOR("torch._utils._rebuild_tensor", true),
    REBUILD_TENSOR_V2("torch._utils._rebuild_tensor_v2", true),
    REBUILD_TENSOR_V3("torch._utils._rebuild_tensor_v3", true),
    REBUILD_PARAMETER("torch._utils._rebuild_parameter", true),
    REBUILD_PARAMETER_WITH_STATE("torch._utils._rebuild_parameter_with_state", true),
    REBUILD_FROM_TYPE_V2("torch._tensor._rebuild_from_type_v2", true),
    PARAMETER("torch.nn.parameter.Parameter", true),
    GET_LAYOUT("torch.serialization._get_layout", true),
    SIZE("torch.Size", true),
    DEVICE("torch.device", true),
    // Allowlisted by torch, recognised here, rebuilt by a later release of weightsonly: a load that
    // meets one stops with a message naming it rather than dropping the tensor.
    REBUILD_QTENSOR("torch._utils._rebuild_qtensor", true),
    REBUILD_SPARSE_TENSOR("torch._utils._rebuild_sparse_tensor", true),
    // PyTorch 1.13's form for CSR tensors (allowlisted by 1.13, gone from PyTorch main, which saves CSR
    // through _rebuild_sparse_tensor): files 1.13 wrote hold it.
    REBUILD_SPARSE_CSR_TENSOR("torch._utils._rebuild_sparse_csr_tensor", true),
    REBUILD_META_TENSOR_NO_STORAGE("torch._utils._rebuild_meta_tensor_no_storage", true),
    REBUILD_WRAPPER_SUBCLASS("torch._utils._rebuild_wrapper_subclass", false),
    REBUILD_DEVICE_TENSOR_FROM_NUMPY("torch._utils._rebuild_device_tensor_from_numpy", false),
    REBUILD_DEVICE_TENSOR_FROM_CPU_TENSOR("torch._utils._rebuild_device_tensor_from_cpu_tensor", true);

    final String qualifiedName;
    final boolean supported;

    TorchFunction(String qualifiedName, boolean supported) {
        this.qualifiedName = qualifiedName;
        this.supported = supported;
    }

    /**
     * The name a pickle gives it.
     *
     * @return {@code module.name}
     */
    public String qualifiedName() {
        return qualifiedName;
    }
}
