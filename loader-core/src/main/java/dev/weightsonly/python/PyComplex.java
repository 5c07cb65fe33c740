package dev.weightsonly.python;

/** A Python {@code complex} scalar. */
public record PyComplex(double real, double imag) {

    @Override
    public String toString() {
        return "(" + real + (imag < 0 || Double.isNaN(imag) ? "" : "+") + imag + "j)";
    }
}
