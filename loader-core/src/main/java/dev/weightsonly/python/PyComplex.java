package dev.weightsonly.python;

/**
 * A Python {@code complex} scalar (a complex tensor's elements are read through the tensor instead).
 *
 * @param real the real part
 * @param imag the imaginary part
 */
public record PyComplex(double real, double imag) {

    /** Python's repr: {@code (1.5-2j)}, {@code 2j}, {@code (nan+infj)}. */
    @Override
    public String toString() {
        return PyRepr.of(this);
    }
}
