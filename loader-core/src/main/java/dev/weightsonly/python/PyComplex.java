package dev.weightsonly.python;

/**
 * A Python {@code complex} scalar (a complex tensor's elements are read through the tensor instead).
 *
 * @param real the real part
 * @param imag the imaginary part
 */
public record PyComplex(double real, double imag) {

    @Override
    public String toString() {
        return "(" + real + (imag < 0 || Double.isNaN(imag) ? "" : "+") + imag + "j)";
    }
}
