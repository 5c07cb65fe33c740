package dev.weightsonly.internal.container;

/**
 * The number a storage key writes: torch.save names its storages {@code "0"}, {@code "1"}, ... and their records
 * {@code data/0}, {@code data/1}, ..., so tables of a load can give such a key a slot by its number. Only the
 * canonical decimal form counts (no sign, no space, no leading zero, ASCII digits), which writes each number
 * one way only: two keys with one number are one key.
 *
 * <p>{@code dev.weightsonly.tensors.Storage} parses the same form for itself, to keep such a key as its number:
 * loader-tensors depends on nothing and exports no helper, so the few lines stand in both modules.
 */
public final class StorageNumber {

    private StorageNumber() {
    }

    /**
     * The number {@code key} writes in canonical decimal, if below {@code bound}.
     *
     * @param key   a storage key
     * @param bound the numbers a table has slots for
     * @return the number, or -1 if {@code key} is not one in canonical decimal or is {@code bound} or more
     */
    public static int of(String key, int bound) {
        int n = key.length();
        if (n < 1 || n > 9 || (n > 1 && key.charAt(0) == '0')) {
            return -1;
        }
        long value = 0;
        for (int k = 0; k < n; k++) {
            int d = key.charAt(k) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            value = value * 10 + d;
        }
        return value < bound ? (int) value : -1;
    }
}
