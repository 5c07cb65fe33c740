package dev.weightsonly.internal.container;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * A read-only channel over a {@link MemorySegment}, so that the zip reader parses the one mapping of the
 * file (or the one in-memory copy of a stream) instead of opening the file a second time.
 */
final class SegmentChannel implements SeekableByteChannel {

    private final MemorySegment segment;
    private long position;
    private boolean open = true;

    SegmentChannel(MemorySegment segment) {
        this.segment = segment;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        long remaining = segment.byteSize() - position;
        if (remaining <= 0) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), remaining);
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, position, MemorySegment.ofBuffer(dst), ValueLayout.JAVA_BYTE,
                0, n);
        dst.position(dst.position() + n);
        position += n;
        return n;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long position() throws IOException {
        ensureOpen();
        return position;
    }

    @Override
    public SeekableByteChannel position(long newPosition) throws IOException {
        ensureOpen();
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position");
        }
        position = newPosition;
        return this;
    }

    @Override
    public long size() throws IOException {
        ensureOpen();
        return segment.byteSize();
    }

    @Override
    public SeekableByteChannel truncate(long size) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!open) {
            throw new ClosedChannelException();
        }
    }
}
