package dev.weightsonly.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J binding of loader-core's tests: it prints nothing, and records what is logged on a thread while a
 * capture is open on that thread ({@code try (CapturedLogs logs = CapturedLogs.start()) {...}}), so that a test
 * asserts the events of its own loads whatever other tests log meanwhile. With no capture open every level is
 * disabled, so the rest of the suite pays nothing. Registered in
 * {@code META-INF/services/org.slf4j.spi.SLF4JServiceProvider} of the test resources.
 */
public final class CapturedLogs implements AutoCloseable {

    /** One logging call: the logger's name, the level, the formatted message, and the throwable if any. */
    public record Event(String logger, Level level, String message, Throwable thrown) {
        @Override
        public String toString() {
            return level + " " + logger + ": " + message;
        }
    }

    private static final List<CapturedLogs> OPEN = new CopyOnWriteArrayList<>();

    private final Thread owner = Thread.currentThread();
    private final List<Event> events = new CopyOnWriteArrayList<>();

    private CapturedLogs() {
    }

    /** Starts recording what the current thread logs, until {@link #close()}. */
    public static CapturedLogs start() {
        CapturedLogs logs = new CapturedLogs();
        OPEN.add(logs);
        return logs;
    }

    /** Every event so far, in order. */
    public List<Event> events() {
        return List.copyOf(events);
    }

    /** The events of one logger at one level, in order. */
    public List<Event> events(String logger, Level level) {
        List<Event> out = new ArrayList<>();
        for (Event e : events) {
            if (e.logger().equals(logger) && e.level() == level) {
                out.add(e);
            }
        }
        return out;
    }

    @Override
    public void close() {
        OPEN.remove(this);
    }

    private static void record(Event event) {
        for (CapturedLogs logs : OPEN) {
            if (logs.owner == Thread.currentThread()) {
                logs.events.add(event);
            }
        }
    }

    /** A logger that records into the captures open on the logging thread. */
    private static final class Recorder extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;

        Recorder(String name) {
            this.name = name;
        }

        private static boolean capturing() {
            return !OPEN.isEmpty();
        }

        @Override
        public boolean isTraceEnabled() {
            return capturing();
        }

        @Override
        public boolean isDebugEnabled() {
            return capturing();
        }

        @Override
        public boolean isInfoEnabled() {
            return capturing();
        }

        @Override
        public boolean isWarnEnabled() {
            return capturing();
        }

        @Override
        public boolean isErrorEnabled() {
            return capturing();
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
                Throwable throwable) {
            record(new Event(name, level, MessageFormatter.basicArrayFormat(pattern, arguments), throwable));
        }
    }

    /** The service provider SLF4J finds through {@link java.util.ServiceLoader}. */
    public static final class Provider implements SLF4JServiceProvider {
        private final ConcurrentHashMap<String, Logger> loggers = new ConcurrentHashMap<>();
        private final ILoggerFactory factory = name -> loggers.computeIfAbsent(name, Recorder::new);
        private final IMarkerFactory markers = new BasicMarkerFactory();
        private final MDCAdapter mdc = new NOPMDCAdapter();

        @Override
        public ILoggerFactory getLoggerFactory() {
            return factory;
        }

        @Override
        public IMarkerFactory getMarkerFactory() {
            return markers;
        }

        @Override
        public MDCAdapter getMDCAdapter() {
            return mdc;
        }

        @Override
        public String getRequestedApiVersion() {
            return "2.0.99";
        }

        @Override
        public void initialize() {
        }
    }
}
