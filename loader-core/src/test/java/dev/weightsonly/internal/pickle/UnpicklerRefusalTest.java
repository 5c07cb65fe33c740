package dev.weightsonly.internal.pickle;

import dev.weightsonly.internal.globals.AllowedGlobal;
import dev.weightsonly.python.PyDict;
import dev.weightsonly.python.PyList;
import dev.weightsonly.python.PyNone;
import dev.weightsonly.python.PyObject;
import dev.weightsonly.python.PySet;
import dev.weightsonly.python.PyTuple;
import static dev.weightsonly.internal.pickle.Pickles.b;
import static dev.weightsonly.internal.pickle.Pickles.be64;
import static dev.weightsonly.internal.pickle.Pickles.global;
import static dev.weightsonly.internal.pickle.Pickles.le32;
import static dev.weightsonly.internal.pickle.Pickles.le64;
import static dev.weightsonly.internal.pickle.Pickles.load;
import static dev.weightsonly.internal.pickle.Pickles.refuse;
import static dev.weightsonly.internal.pickle.Pickles.repeat;
import static dev.weightsonly.internal.pickle.Pickles.run;
import static dev.weightsonly.internal.pickle.Pickles.shortStr;
import static dev.weightsonly.internal.pickle.Pickles.str;
import static dev.weightsonly.internal.pickle.Pickles.torchHost;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.weightsonly.CheckpointException;
import dev.weightsonly.LimitExceededException;
import dev.weightsonly.LoadLimits;
import dev.weightsonly.MalformedCheckpointException;
import dev.weightsonly.UnsafeCheckpointException;
import dev.weightsonly.UnsupportedCheckpointException;
import dev.weightsonly.UnsupportedGlobalException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every refusal of the machine (and of torch's host, for what the machine delegates) is one of the library's
 * exception types with the documented message, at the right pickle offset, and nothing else ever escapes.
 */
class UnpicklerRefusalTest {

    private static LimitExceededException limit(String limitName, long value, byte[] pickle, LoadLimits limits) {
        LimitExceededException e = refuse(LimitExceededException.class, "limit " + limitName + " = " + value, pickle,
                limits);
        assertEquals(limitName, e.limitName());
        assertEquals(value, e.limit());
        return e;
    }

    @Nested
    class Globals {

        @ParameterizedTest
        @ValueSource(strings = {"os", "posix", "nt", "sys"})
        void blockedModules(String module) {
            String name = module.equals("sys") ? "exit" : "system";
            UnsupportedGlobalException e = refuse(UnsupportedGlobalException.class,
                    "Trying to load unsupported GLOBAL " + module + "." + name + " whose module " + module
                            + " is blocked",
                    b(0x80, 2, global(module, name), str("echo pwned"), 0x85, 'R', '.'));
            assertEquals(module + "." + name, e.globalName());
            assertEquals(2, e.pickleOffset());
            assertTrue(e.getMessage().startsWith("test.pkl: at pickle offset 2: "), e.getMessage());
        }

        @Test
        void blockedEvenWhenTheCallerAllowsIt() {
            refuse(UnsupportedGlobalException.class, "whose module os is blocked", b(global("os", "system"), '.'),
                    Pickles.torchHost(Set.of("os.system"), LoadLimits.defaults()), LoadLimits.defaults());
        }

        @Test
        void blockedThroughStackGlobal() {
            UnsupportedGlobalException e = refuse(UnsupportedGlobalException.class, "whose module posix is blocked",
                    b(0x80, 4, shortStr("posix"), shortStr("system"), 0x93, '.'));
            assertEquals("posix.system", e.globalName());
            assertEquals(2 + 7 + 8, e.pickleOffset());
        }

        @Test
        void evalThroughPythonTwoBuiltin() {
            UnsupportedGlobalException e = refuse(UnsupportedGlobalException.class,
                    "GLOBAL eval was not an allowed global by default",
                    b(0x80, 2, global("__builtin__", "eval"), str("1"), 0x85, 'R', '.'));
            assertEquals("builtins.eval", e.globalName());
        }

        @Test
        void unknownGlobals() {
            UnsupportedGlobalException e = refuse(UnsupportedGlobalException.class,
                    "GLOBAL subprocess.Popen was not an allowed global by default",
                    b(global("subprocess", "Popen"), '.'));
            assertEquals("subprocess.Popen", e.globalName());
            refuse(UnsupportedGlobalException.class, "GLOBAL frozenset was not an allowed global by default",
                    b(global("__builtin__", "frozenset"), '.'));
            refuse(UnsupportedGlobalException.class, "GLOBAL getattr was not an allowed global by default",
                    b(global("builtins", "getattr"), '.'));
            // names are whole strings: no prefix matching, no trimming
            refuse(UnsupportedGlobalException.class, "GLOBAL collections.OrderedDict  was not",
                    b(global("collections", "OrderedDict "), '.'));
            refuse(UnsupportedGlobalException.class, "GLOBAL oss.system was not", b(global("oss", "system"), '.'));
            refuse(UnsupportedGlobalException.class, "GLOBAL os.path.join was not", b(global("os.path", "join"), '.'));
        }

        @Test
        void stackGlobalNeedsStrOperands() {
            refuse(MalformedCheckpointException.class, "STACK_GLOBAL requires str module and name, got int and int",
                    b('K', 1, 'K', 2, 0x93, '.'));
            refuse(MalformedCheckpointException.class, "got bytes and str",
                    b('C', 2, "os", shortStr("system"), 0x93, '.'));
            refuse(MalformedCheckpointException.class, "unpickling stack underflow", b(shortStr("os"), 0x93, '.'));
        }

        @Test
        void globalNamesMustBeUtf8AndBounded() throws Exception {
            refuse(MalformedCheckpointException.class, "invalid UTF-8", b('c', 0xFF, '\n', "x\n", '.'));
            refuse(MalformedCheckpointException.class, "truncated", b('c', "collections\nOrderedDict"));
            // LoadLimits.maxNameBytes (default 4096) bounds GLOBAL and INST names, as it bounds archive record names
            String name = "x".repeat(4096);
            assertEquals(new AllowedGlobal("m." + name), load(b(global("m", name), '.'), new Pickles.RecordingHost()));
            LimitExceededException e = refuse(LimitExceededException.class,
                    "text operand longer than 4096 bytes", b(global("m", name + "x"), '.'));
            assertEquals("maxNameBytes", e.limitName());
            assertEquals(0, e.pickleOffset());
            LimitExceededException inst = refuse(LimitExceededException.class, "maxNameBytes",
                    b('(', "i", name + "x", "\nx\n", '.'));
            assertEquals(1, inst.pickleOffset());
            refuse(MalformedCheckpointException.class, "text operand longer than 512 bytes",
                    b("F", "1".repeat(600), "\n."));
            refuse(MalformedCheckpointException.class, "text operand longer than 32 bytes",
                    b('N', "p", "0".repeat(40), "\n."));
        }

        @Test
        void instAndObjOfNonAllowedClasses() {
            refuse(UnsupportedGlobalException.class, "GLOBAL mymod.Evil was not", b('(', "imymod\nEvil\n", '.'));
            refuse(UnsupportedGlobalException.class, "whose module os is blocked",
                    b('(', str("id"), "ios\nsystem\n", '.'));
            refuse(UnsupportedGlobalException.class, "GLOBAL mymod.Evil was not",
                    b('(', global("mymod", "Evil"), 'o', '.'));
            // allowed but not callable
            refuse(UnsafeCheckpointException.class, "Trying to call reduce for unrecognized function",
                    b('(', "itorch\nfloat32\n", '.'));
            refuse(UnsafeCheckpointException.class, "Trying to call reduce for unrecognized function",
                    b('(', str("os"), str("system"), 'o', '.'));
            refuse(MalformedCheckpointException.class, "OBJ without a class", b('(', 'o', '.'));
            refuse(MalformedCheckpointException.class, "could not find MARK", b("icollections\nOrderedDict\n."));
        }
    }

    @Nested
    class Calls {

        @Test
        void reduceOnNonCallables() {
            refuse(UnsafeCheckpointException.class, "Trying to call reduce for unrecognized function 'abc'",
                    b('U', 3, "abc", ')', 'R', '.'));
            refuse(UnsafeCheckpointException.class, "Trying to call reduce for unrecognized function",
                    b(global("torch", "float32"), ')', 'R', '.'));
            refuse(UnsafeCheckpointException.class, "Trying to call reduce for unrecognized function",
                    b(global("torch", "FloatStorage"), ')', 'R', '.'));
            refuse(UnsafeCheckpointException.class, "Trying to call reduce for unrecognized function None",
                    b('N', ')', 'R', '.'));
            refuse(UnsafeCheckpointException.class, "unrecognized function", b(']', ')', 'R', '.'));
        }

        @Test
        void reduceWithNonTupleArgs() {
            refuse(MalformedCheckpointException.class, "REDUCE arguments must be a tuple, got list",
                    b(global("collections", "OrderedDict"), ']', 'R', '.'));
            refuse(MalformedCheckpointException.class, "REDUCE arguments must be a tuple, got NoneType",
                    b(global("collections", "OrderedDict"), 'N', 'R', '.'));
            refuse(MalformedCheckpointException.class, "unpickling stack underflow", b(')', 'R', '.'));
        }

        @Test
        void newobjOnNonClasses() {
            refuse(UnsafeCheckpointException.class,
                    "Can only create new object for nn.Parameter or classes allowlisted",
                    b('U', 3, "abc", ')', 0x81, '.'));
            refuse(UnsafeCheckpointException.class, "but got _codecs.encode",
                    b(global("_codecs", "encode"), ')', 0x81, '.'));
            refuse(UnsafeCheckpointException.class, "but got torch._utils._rebuild_tensor_v2",
                    b(global("torch._utils", "_rebuild_tensor_v2"), ')', 0x81, '.'));
            refuse(MalformedCheckpointException.class, "NEWOBJ arguments must be a tuple",
                    b(global("collections", "OrderedDict"), ']', 0x81, '.'));
        }

        @Test
        void newobjExWithKeywords() {
            refuse(UnsupportedCheckpointException.class, "NEWOBJ_EX with keyword arguments (dict)",
                    b(global("collections", "OrderedDict"), ')', '}', 'U', 1, 'a', 'K', 1, 's', 0x92, '.'));
            refuse(UnsupportedCheckpointException.class, "NEWOBJ_EX with keyword arguments (NoneType)",
                    b(global("collections", "OrderedDict"), ')', 'N', 0x92, '.'));
            refuse(UnsafeCheckpointException.class, "Can only create new object",
                    b('N', ')', '}', 0x92, '.'));
        }

        @Test
        void buildOnPlainValues() {
            refuse(UnsafeCheckpointException.class,
                    "Can only build Tensor, Parameter, OrderedDict or types allowlisted via `add_safe_globals`,"
                            + " but got dict",
                    b('}', '}', 'U', 1, 'a', 'K', 1, 's', 'b', '.'));
            refuse(UnsafeCheckpointException.class, "but got list", b(']', '}', 'b', '.'));
            refuse(UnsafeCheckpointException.class, "but got str", b('U', 1, 'x', '}', 'b', '.'));
            // the allowed class itself is no instance: torch's BUILD refuses its type too
            refuse(UnsafeCheckpointException.class, "but got builtins.set",
                    b(global("builtins", "set"), '}', 'b', '.'));
            // an OrderedDict's __dict__.update(state): a list of no pairs is nothing, None is not iterable
            refuse(MalformedCheckpointException.class, "BUILD: 'NoneType' object is not iterable",
                    b(global("collections", "OrderedDict"), ')', 'R', 'N', 'b', '.'));
            refuse(MalformedCheckpointException.class, "need more than 1 value to unpack",
                    b(global("collections", "OrderedDict"), ')', 'R', 'K', 1, 0x85, 0x85, 'b', '.'));
            // Python takes any key into an instance __dict__; attribute names must be str here (strict-structure)
            refuse(MalformedCheckpointException.class, "attribute names must be str, got int",
                    b(global("collections", "OrderedDict"), ')', 'R', '}', 'K', 1, 'K', 1, 's', 'b', '.'));
            refuse(MalformedCheckpointException.class, "attribute names must be str, got int",
                    b(global("collections", "Counter"), ')', 'R', '}', 'K', 1, 'K', 1, 's', 'b', '.'));
            // objects without a __dict__ take only a false state (pickle's load_build, which torch mimics)
            refuse(MalformedCheckpointException.class, "BUILD: 'set' object has no attribute '__dict__'",
                    b(global("builtins", "set"), ')', 'R', '}', str("a"), 'K', 1, 's', 'b', '.'));
            refuse(MalformedCheckpointException.class, "BUILD: cannot set attributes of a 'bytearray' object",
                    b(global("builtins", "bytearray"), ')', 'R', 'N', '}', str("a"), 'K', 1, 's', 0x86, 'b', '.'));
        }

        @Test
        void appendOntoNonLists() {
            refuse(UnsafeCheckpointException.class, "Can only append to lists, but got dict (APPEND)",
                    b('}', 'K', 1, 'a', '.'));
            refuse(UnsafeCheckpointException.class, "Can only append to lists, but got tuple (APPEND)",
                    b(')', 'K', 1, 'a', '.'));
            refuse(UnsafeCheckpointException.class, "Can only append to lists, but got dict (APPENDS)",
                    b('}', '(', 'K', 1, 'e', '.'));
            refuse(UnsafeCheckpointException.class, "Can only append to lists, but got builtins.set (APPENDS)",
                    b(global("builtins", "set"), '(', 'e', '.'));
        }

        @Test
        void setitemOntoNonDicts() {
            refuse(UnsafeCheckpointException.class,
                    "Can only SETITEM for dict, collections.OrderedDict, collections.Counter, but got list",
                    b(']', 'K', 1, 'K', 2, 's', '.'));
            refuse(UnsafeCheckpointException.class,
                    "Can only SETITEM for dict, collections.OrderedDict, collections.Counter, but got tuple",
                    b(')', 'K', 1, 'K', 2, 's', '.'));
            refuse(UnsafeCheckpointException.class,
                    "Can only SETITEMS for dict, collections.OrderedDict, collections.Counter, but got list",
                    b(']', '(', 'K', 1, 'K', 2, 'u', '.'));
            refuse(UnsafeCheckpointException.class, "but got collections.OrderedDict",
                    b(global("collections", "OrderedDict"), 'K', 1, 'K', 2, 's', '.'));
        }

        @Test
        void additemsOntoNonSets() {
            refuse(UnsafeCheckpointException.class, "Can only ADDITEMS to a set, but got frozenset",
                    b('(', 0x91, '(', 'K', 1, 0x90, '.'));
            refuse(UnsafeCheckpointException.class, "Can only ADDITEMS to a set, but got list",
                    b(']', '(', 'K', 1, 0x90, '.'));
        }

        @Test
        void setitemsWithAnOddCount() {
            refuse(MalformedCheckpointException.class, "SETITEMS needs key-value pairs, got an odd number of items (1)",
                    b('}', '(', 'K', 1, 'u', '.'));
            refuse(MalformedCheckpointException.class, "DICT needs key-value pairs, got an odd number of items (3)",
                    b('(', 'K', 1, 'K', 2, 'K', 3, 'd', '.'));
        }

        @Test
        void unhashableKeysAndItems() {
            refuse(MalformedCheckpointException.class, "unhashable type: 'list'", b('}', ']', 'K', 1, 's', '.'));
            refuse(MalformedCheckpointException.class, "unhashable type: 'dict'", b('(', '}', 'K', 1, 'd', '.'));
            refuse(MalformedCheckpointException.class, "unhashable type: 'tuple'",
                    b('}', ']', 0x85, 'K', 1, 's', '.'));
            refuse(MalformedCheckpointException.class, "unhashable type: 'set'", b(0x8F, '(', 0x8F, 0x90, '.'));
            refuse(MalformedCheckpointException.class, "unhashable type: 'list'", b(0x8F, '(', ']', 0x90, '.'));
            refuse(MalformedCheckpointException.class, "unhashable type: 'bytearray'",
                    b('(', 0x96, le64(0), 0x91, '.'));
            refuse(MalformedCheckpointException.class, "unhashable type: 'list'",
                    b(global("builtins", "set"), ']', ']', 'a', 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "unhashable type: 'list'",
                    b(global("collections", "OrderedDict"), ']', ']', 'K', 1, 0x86, 'a', 0x85, 'R', '.'));
        }

        @Test
        void bytearrayArguments() {
            // bytearray(n) is n zero bytes: bounded by maxStringBytes before anything is allocated
            limit("maxStringBytes", 1 << 20, b(global("__builtin__", "bytearray"), 'J', 0xFF, 0xFF, 0xFF, 0x7F, 0x85,
                    'R', '.'), LoadLimits.builder().maxStringBytes(1 << 20).build());
            // and charged to maxObjects as a str of n characters is (a sixteenth)
            limit("maxObjects", 1000, b(global("builtins", "bytearray"), 'J', 0x00, 0x00, 0x01, 0x00, 0x85, 'R',
                    '.'), LoadLimits.builder().maxObjects(1000).build());
            refuse(MalformedCheckpointException.class, "negative count",
                    b(global("builtins", "bytearray"), 'J', 0xFF, 0xFF, 0xFF, 0xFF, 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "cannot fit 'int' into an index-sized integer",
                    b(global("builtins", "bytearray"), 0x8A, 9, new byte[8], 1, 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "string argument without an encoding",
                    b(global("builtins", "bytearray"), str("a"), 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "encoding without a string argument",
                    b(global("builtins", "bytearray"), 'K', 1, str("utf-8"), 0x86, 'R', '.'));
            refuse(MalformedCheckpointException.class, "argument 'encoding' must be str, not int",
                    b(global("builtins", "bytearray"), str("a"), 'K', 1, 0x86, 'R', '.'));
            refuse(MalformedCheckpointException.class, "cannot convert 'float' object to bytearray",
                    b(global("builtins", "bytearray"), 'G', be64(1.0), 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "byte must be in range(0, 256)",
                    b(global("builtins", "bytearray"), 'K', 1, 'M', 0, 1, 0x86, 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "'str' object cannot be interpreted as an integer",
                    b(global("builtins", "bytearray"), str("a"), 0x85, 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "bytearray() takes at most 3 arguments (4 given)",
                    b(global("builtins", "bytearray"), '(', str("a"), str("utf-8"), str("strict"), str("x"), 't',
                            'R', '.'));
        }

        @Test
        void codecsEncodeWithOtherCodecs() {
            refuse(UnsupportedCheckpointException.class,
                    "encoding to 'rot_13' (only UTF-8, Latin-1 and ASCII, the data encodings, are supported)",
                    b(global("_codecs", "encode"), str("abc"), str("rot_13"), 0x86, 'R', '.'));
            refuse(UnsupportedCheckpointException.class, "encoding to 'base64'",
                    b(global("_codecs", "encode"), str("abc"), str("base64"), 0x86, 'R', '.'));
            refuse(MalformedCheckpointException.class,
                    "'latin-1' codec can't encode character U+100: ordinal not in range(256)",
                    b(global("_codecs", "encode"), str("\u0100"), str("latin1"), 0x86, 'R', '.'));
            // _codecs.encode(str) alone is UTF-8, as in Python (difffuzz/codecs_encode_default_utf8.pt)
            refuse(MalformedCheckpointException.class, "_codecs.encode expects (str, encoding, errors)",
                    b(global("_codecs", "encode"), ')', 'R', '.'));
            // the error handler is read only for a character the encoding cannot write, as in Python
            refuse(UnsupportedCheckpointException.class, "errors='xmlcharrefreplace'",
                    b(global("_codecs", "encode"), str("\u0100"), str("ascii"), str("xmlcharrefreplace"), 0x87, 'R',
                            '.'));
            refuse(MalformedCheckpointException.class, "unknown error handler name 'nonsense'",
                    b(global("_codecs", "encode"), str("\u0100"), str("ascii"), str("nonsense"), 0x87, 'R', '.'));
        }

        @Test
        void otherBuiltinArguments() {
            refuse(MalformedCheckpointException.class, "complex() arg is a malformed string",
                    b(global("builtins", "complex"), str("1 + 2j"), 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "complex() can't take second arg if first is a string",
                    b(global("builtins", "complex"), str("1"), 'K', 2, 0x86, 'R', '.'));
            refuse(MalformedCheckpointException.class, "complex() second arg can't be a string",
                    b(global("builtins", "complex"), 'K', 1, str("2"), 0x86, 'R', '.'));
            refuse(MalformedCheckpointException.class, "first argument must be a string or a number, not 'NoneType'",
                    b(global("builtins", "complex"), 'N', 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "int too large to convert to float",
                    b(global("builtins", "complex"), 0x8B, le32(200), new byte[199], 1, 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "set(): 'int' object is not iterable",
                    b(global("builtins", "set"), 'K', 1, 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "set expected at most 1 argument, got 2",
                    b(global("builtins", "set"), ')', ')', 0x86, 'R', '.'));
            refuse(MalformedCheckpointException.class, "expected at most 1 arguments, got 2",
                    b(global("collections", "OrderedDict"), '}', '}', 0x86, 'R', '.'));
            refuse(MalformedCheckpointException.class, "OrderedDict(): 'int' object is not iterable",
                    b(global("collections", "OrderedDict"), ']', 'K', 1, 'a', 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "too many values to unpack (expected 2)",
                    b(global("collections", "OrderedDict"), ']', str("abc"), 'a', 0x85, 'R', '.'));
            refuse(MalformedCheckpointException.class, "takes from 1 to 2 positional arguments but 3 were given",
                    b(global("collections", "Counter"), ')', ')', 0x86, 'R', '.'));
            refuse(MalformedCheckpointException.class, "Counter(): 'float' object is not iterable",
                    b(global("collections", "Counter"), 'G', be64(1.0), 0x85, 'R', '.'));
        }

        @Test
        void persistentIdsThatAreNotStorages() {
            refuse(UnsafeCheckpointException.class, "Only persistent_load of storage is allowed",
                    b('(', str("module"), str("x"), 't', 'Q', '.'));
            refuse(MalformedCheckpointException.class, "persistent_load id must be tuple or int",
                    b(']', 'Q', '.'));
            refuse(MalformedCheckpointException.class, "no storage record '0'",
                    b('(', str("storage"), global("torch", "FloatStorage"), str("0"), str("cpu"), 'K', 2, 't', 'Q',
                            '.'));
        }
    }

    @Nested
    class Opcodes {

        @Test
        void extensionRegistryOpcodes() {
            assertEquals(0, refuse(UnsafeCheckpointException.class, "Unsupported operand 130: EXT1",
                    b(0x82, 1, '.')).pickleOffset());
            assertEquals(2, refuse(UnsafeCheckpointException.class, "Unsupported operand 131: EXT2",
                    b(0x80, 2, 0x83, 1, 0, '.')).pickleOffset());
            refuse(UnsafeCheckpointException.class, "Unsupported operand 132: EXT4", b(0x84, 1, 0, 0, 0, '.'));
        }

        @Test
        void nextBuffer() {
            refuse(UnsupportedCheckpointException.class, "Unsupported operand 151: NEXT_BUFFER", b(0x80, 5, 0x97, '.'));
        }

        @Test
        void unknownOpcodes() {
            MalformedCheckpointException e = refuse(MalformedCheckpointException.class,
                    "Unsupported operand 255 (0xff): not a pickle opcode", b(0x80, 2, 'K', 1, 0xFF, '.'));
            assertEquals(4, e.pickleOffset());
            assertTrue(e.getMessage().startsWith("test.pkl: at pickle offset 4: Unsupported operand 255"),
                    e.getMessage());
            refuse(MalformedCheckpointException.class, "Unsupported operand 0 (0x0)", b(0, '.'));
            refuse(MalformedCheckpointException.class, "Unsupported operand 153 (0x99)", b(0x99, '.'));
        }

        @Test
        void stackUnderflow() {
            for (byte[] p : new byte[][] {b('.'), b('a'), b('K', 1, 'a'), b('s'), b('K', 1, 's'), b('R'), b('b'),
                    b(0x81), b(0x92), b(0x85), b('K', 1, 0x86), b('K', 1, 'K', 2, 0x87), b('2'), b(0x98), b('Q'),
                    b('q', 0), b('r', le32(0)), b(0x94), b("p0\n"), b('K', 1, '(', 'R')}) {
                refuse(MalformedCheckpointException.class, "unpickling stack underflow", p);
            }
        }

        @Test
        void stopNeedsExactlyOneValueAndNoOpenMark() {
            // CPython returns the top value and ignores the rest; pickletools refuses. Deciding once keeps every
            // reader of a file agreeing on what it holds (adversarial.md E07).
            refuse(MalformedCheckpointException.class, "STOP inside 1 open MARK", b('(', '.'));
            refuse(MalformedCheckpointException.class, "STOP inside 2 open MARKs", b('K', 1, '(', 'K', 2, '(', 'K', 3, '.'));
            MalformedCheckpointException e = refuse(MalformedCheckpointException.class,
                    "STOP leaves 2 values on the stack: a pickle ends with exactly one value", b('N', 'N', '.'));
            assertEquals(2, e.pickleOffset());
        }

        @Test
        void missingMark() {
            for (byte[] p : new byte[][] {b('K', 1, 't', '.'), b(']', 'K', 1, 'e', '.'), b('l'), b('d'), b('u'),
                    b(0x90), b(0x91), b('1'), b('0'), b('o'), b("ibuiltins\nset\n")}) {
                refuse(MalformedCheckpointException.class, "could not find MARK", p);
            }
        }

        @Test
        void marksHideWhatIsBelowThem() {
            // values below a MARK are out of reach until the mark is popped
            refuse(MalformedCheckpointException.class, "unpickling stack underflow", b(']', '(', 'K', 1, 'a', '.'));
            refuse(MalformedCheckpointException.class, "unpickling stack underflow", b('}', '(', 'K', 1, 'K', 2, 's'));
            refuse(MalformedCheckpointException.class, "unpickling stack underflow", b('K', 1, '(', 0x85));
        }

        @Test
        void memoReadsOfUnsetSlots() {
            refuse(MalformedCheckpointException.class, "memo slot 5 was read before it was written", b('h', 5, '.'));
            refuse(MalformedCheckpointException.class, "memo slot 7 was read before it was written", b("g7\n."));
            refuse(MalformedCheckpointException.class, "memo slot 4294967295 was read before it was written",
                    b('j', 0xFF, 0xFF, 0xFF, 0xFF, '.'));
            refuse(MalformedCheckpointException.class, "memo slot 300000 was read before it was written",
                    b('N', 'r', le32(300_001), 'j', le32(300_000), '.'));
            refuse(MalformedCheckpointException.class, "memo slot 1 was read before it was written",
                    b('N', 'q', 0, 'h', 1, '.'));
            refuse(MalformedCheckpointException.class, "invalid memo index '-1'", b("Np-1\n."));
            refuse(MalformedCheckpointException.class, "invalid memo index '4294967296'", b("Ng4294967296\n."));
            refuse(MalformedCheckpointException.class, "invalid memo index 'x'", b("Ngx\n."));
        }

        @Test
        void truncationAtEveryPrefix() throws Exception {
            byte[] whole = b(0x80, 4, 0x95, le64(0), global("collections", "OrderedDict"), 'q', 0, ')', 'R', 0x94,
                    '(', str("key"), 'J', 1, 2, 3, 4, 'M', 1, 2, 'K', 9, 0x8A, 2, 0, 1, 0x8B, le32(1), 5, 0x86,
                    'N', 'u',
                    '(', 'G', 0, 0, 0, 0, 0, 0, 0, 0, "F1.5\n", "I01\n", "L12L\n", "S'x'\n", "Vy\n", 'U', 1, 'z',
                    'T', le32(1), 'w', 'C', 1, 0, 'B', le32(1), 1, 0x8E, le64(1), 2, 0x96, le64(1), 3, 0x98,
                    0x8C, 1, 'a', 0x8D, le64(1), 'b', 'N', 0x88, 0x89, 'r', le32(9), 'j', le32(9), "p3\n", "g3\n",
                    ']', '(', 'K', 1, 'e', 'K', 2, 'a', '}', 0x8F, '(', 'K', 1, 0x90, 't',
                    '(', 0x91, '(', 'l', '(', 'd', 0x87, '0', '(', '1', '2', '0', '0', 'h', 0, 0x85, '0', '.');
            Object value = load(whole);
            assertInstanceOf(PyDict.class, value);
            for (int n = 0; n < whole.length; n++) {
                byte[] prefix = java.util.Arrays.copyOf(whole, n);
                MalformedCheckpointException e = refuse(MalformedCheckpointException.class, "", prefix);
                assertTrue(e.getMessage().contains("truncated"), "prefix of " + n + ": " + e.getMessage());
            }
        }

        @Test
        void truncatedOperandsReportWhatIsMissing() {
            MalformedCheckpointException e = refuse(MalformedCheckpointException.class,
                    "pickle data was truncated: opcode needs 4 more bytes, 2 remain", b(0x80, 2, 'J', 1, 2));
            assertEquals(2, e.pickleOffset());
            refuse(MalformedCheckpointException.class, "opcode needs 10 more bytes, 3 remain",
                    b('X', le32(10), "abc"));
            refuse(MalformedCheckpointException.class, "a text operand has no ending newline", b("I12"));
            refuse(MalformedCheckpointException.class, "it ended before STOP", b('N'));
            refuse(MalformedCheckpointException.class, "it ended before STOP", new byte[0]);
        }

        @Test
        void negativeLengths() {
            refuse(MalformedCheckpointException.class, "negative length -1", b('T', 0xFF, 0xFF, 0xFF, 0xFF, "abc."));
            refuse(MalformedCheckpointException.class, "negative length -2147483648", b(0x8B, 0, 0, 0, 0x80, "abc."));
        }

        @Test
        void eightByteLengthsBeyondAnyInput() {
            for (int op : new int[] {0x8D, 0x8E, 0x96}) {
                refuse(MalformedCheckpointException.class, "length 9223372036854775808 is larger than any input",
                        b(op, le64(Long.MIN_VALUE), "abc."));
                refuse(MalformedCheckpointException.class, "length 18446744073709551615 is larger than any input",
                        b(op, le64(-1), "abc."));
                refuse(MalformedCheckpointException.class, "truncated", b(op, le64(Long.MAX_VALUE), "abc."),
                        LoadLimits.builder().maxStringBytes(Long.MAX_VALUE).build());
            }
            refuse(MalformedCheckpointException.class, "length 9223372036854775808 is larger than any input",
                    b(0x95, le64(Long.MIN_VALUE), 'N', '.'));
        }

        @Test
        void frameLongerThanTheInput() {
            MalformedCheckpointException e = refuse(MalformedCheckpointException.class,
                    "FRAME of 100 bytes, but only 2 remain", b(0x80, 4, 0x95, le64(100), 'N', '.'));
            assertEquals(2, e.pickleOffset());
            refuse(MalformedCheckpointException.class, "FRAME of 9223372036854775807 bytes",
                    b(0x95, le64(Long.MAX_VALUE), 'N', '.'));
        }

        @Test
        void offsetsAreRelativeToThePickleStart() {
            byte[] data = b("junk", 0x80, 2, 'N', 0xFF, '.');
            try {
                Unpickler.load(MemorySegment.ofArray(data), 4, data.length, Pickles.WHERE, torchHost(),
                        LoadLimits.defaults());
                fail("loaded");
            } catch (CheckpointException e) {
                assertInstanceOf(MalformedCheckpointException.class, e);
                assertEquals(3, e.pickleOffset());
                assertTrue(e.getMessage().startsWith("test.pkl: at pickle offset 3: Unsupported operand 255"),
                        e.getMessage());
            }
            // the end bound is honoured: STOP beyond it is not read
            try {
                Unpickler.load(MemorySegment.ofArray(data), 4, data.length - 1, Pickles.WHERE, torchHost(),
                        LoadLimits.defaults());
                fail("loaded");
            } catch (CheckpointException e) {
                assertEquals(3, e.pickleOffset());
            }
            byte[] text = b('N', '.', "S'abc");
            try {
                Unpickler.load(MemorySegment.ofArray(text), 2, text.length, Pickles.WHERE, torchHost(),
                        LoadLimits.defaults());
                fail("loaded");
            } catch (CheckpointException e) {
                assertInstanceOf(MalformedCheckpointException.class, e);
                assertEquals(0, e.pickleOffset());
            }
        }

        @Test
        void offsetsOfDelegatedRefusals() {
            byte[] p = b(0x80, 2, global("collections", "OrderedDict"), ')', 'R', global("os", "system"), '.');
            assertEquals(2 + 25 + 2, refuse(UnsupportedGlobalException.class, "os.system", p).pickleOffset());
            byte[] q = b(0x80, 2, '}', 'U', 1, 'k', global("builtins", "set"), 'K', 1, 0x85, 'R', 's', '.');
            MalformedCheckpointException e = refuse(MalformedCheckpointException.class,
                    "set(): 'int' object is not iterable (building the value of key 'k')", q);
            assertEquals(3 + 3 + 14 + 3, e.pickleOffset());
        }
    }

    @Nested
    class Limits {

        @Test
        void maxPickleBytes() {
            limit("maxPickleBytes", 4, b('K', 1, 'N', '0', '.'), LoadLimits.builder().maxPickleBytes(4).build());
        }

        @Test
        void maxStackDepth() throws Exception {
            LoadLimits limits = LoadLimits.builder().maxStackDepth(100).build();
            byte[] fits = b(repeat(b('N'), 100), repeat(b('0'), 99), '.'); // 100 deep, then popped to one
            assertSame(PyNone.NONE, run(fits, torchHost(), limits).value());
            LimitExceededException e = limit("maxStackDepth", 100, b(repeat(b('N'), 101), '.'), limits);
            assertEquals(100, e.pickleOffset());
            // marks do not reset the count
            limit("maxStackDepth", 100, b(repeat(b('N', '('), 101), '.'), limits);
        }

        @Test
        void smallMaxStackDepthIsExact() throws Exception {
            LoadLimits limits = LoadLimits.builder().maxStackDepth(4).build();
            assertSame(PyNone.NONE, run(b(repeat(b('N'), 4), repeat(b('0'), 3), '.'), torchHost(), limits).value());
            LimitExceededException e = limit("maxStackDepth", 4, b(repeat(b('N'), 5), '.'), limits);
            assertEquals(4, e.pickleOffset());
        }

        @Test
        void aMillionMarks() {
            byte[] marks = b(repeat(b('('), 1_000_000), '.');
            LimitExceededException e = limit("maxMarkDepth", 10_000, marks, LoadLimits.defaults());
            assertEquals(10_000, e.pickleOffset());
            limit("maxMarkDepth", 50, marks, LoadLimits.builder().maxMarkDepth(50).build());
            LoadLimits three = LoadLimits.builder().maxMarkDepth(3).build();
            assertEquals(3, limit("maxMarkDepth", 3, marks, three).pickleOffset());
        }

        @Test
        void maxMemoEntries() throws Exception {
            LoadLimits limits = LoadLimits.builder().maxMemoEntries(3).build();
            // rewriting a slot is not a new entry
            assertSame(PyNone.NONE, run(b('N', 'q', 0, 'q', 1, 'q', 2, 'q', 0, 'q', 2, 'q', 1, '.'), torchHost(),
                    limits).value());
            limit("maxMemoEntries", 3, b('N', 'q', 0, 'q', 1, 'q', 2, 'q', 3, '.'), limits);
            limit("maxMemoEntries", 3, b('N', 0x94, 0x94, 0x94, 0x94, '.'), limits);
            limit("maxMemoEntries", 3, b('N', 'r', le32(1 << 20), 'r', le32(1 << 21), 'r', le32(1 << 22),
                    'r', le32(1 << 23), '.'), limits);
        }

        @Test
        void maxContainerLengthAgainstDupAmplification() throws Exception {
            LoadLimits limits = LoadLimits.builder().maxContainerLength(10).build();
            byte[] ten = b(']', '(', 'K', 1, repeat(b('2'), 9), 'e', '.');
            assertEquals(10, ((PyList) run(ten, torchHost(), limits).value()).size());
            limit("maxContainerLength", 10, b(']', '(', 'K', 1, repeat(b('2'), 10), 'e', '.'), limits);
            // APPENDS twice into the same list, through the memo
            limit("maxContainerLength", 10, b(']', 'q', 0, '(', 'K', 1, repeat(b('2'), 5), 'e', '0',
                    'h', 0, '(', 'K', 1, repeat(b('2'), 5), 'e', '.'), limits);
            limit("maxContainerLength", 10, b(']', repeat(b('K', 1, 'a'), 11), '.'), limits);
            limit("maxContainerLength", 10, b('(', 'K', 1, repeat(b('2'), 10), 'l', '.'), limits);
            limit("maxContainerLength", 10, b(0x8F, '(', repeat(b('K', 1), 11), 0x90, '.'), limits);
            limit("maxContainerLength", 10, b('(', repeat(b('N'), 11), 0x91, '.'), limits);
            StringBuilder pairs = new StringBuilder();
            for (int i = 0; i < 11; i++) {
                pairs.append("I").append(i + 10).append("\nN");
            }
            limit("maxContainerLength", 10, b('}', '(', pairs.toString(), 'u', '.'), limits);
            limit("maxContainerLength", 10, b('(', pairs.toString(), 'd', '.'), limits);
        }

        @Test
        void maxStringBytes() throws Exception {
            LoadLimits limits = LoadLimits.builder().maxStringBytes(10).build();
            assertEquals("0123456789", run(b(str("0123456789"), '.'), torchHost(), limits).value());
            limit("maxStringBytes", 10, b(str("0123456789a"), '.'), limits);
            // refused from the declared length, before the bytes are looked for
            limit("maxStringBytes", 10, b('X', le32(0xFFFF_FFFFL)), limits);
            limit("maxStringBytes", 10, b('B', le32(11)), limits);
            limit("maxStringBytes", 10, b(0x8E, le64(1L << 40)), limits);
            limit("maxStringBytes", 10, b(0x96, le64(11)), limits);
            limit("maxStringBytes", 10, b('T', le32(11)), limits);
            limit("maxStringBytes", 10, b("S'0123456789abcdef'\n."), limits);
            limit("maxStringBytes", 10, b("V0123456789abcdef\n."), limits);
        }

        @Test
        void hugeStringLimitDoesNotOverflowTextOperands() throws Exception {
            LoadLimits limits = LoadLimits.builder().maxStringBytes(Long.MAX_VALUE).build();
            assertEquals("abc", run(b("S'abc'\n."), torchHost(), limits).value());
            assertEquals("abc", run(b("Vabc\n."), torchHost(), limits).value());
        }

        @Test
        void maxIntegerBytes() throws Exception {
            LoadLimits limits = LoadLimits.builder().maxIntegerBytes(16).build();
            assertInstanceOf(java.math.BigInteger.class, run(b(0x8B, le32(16), new byte[15], 1, '.'), torchHost(),
                    limits).value());
            limit("maxIntegerBytes", 16, b(0x8B, le32(17), new byte[17], '.'), limits);
            // refused from the declared length, before any byte is read
            limit("maxIntegerBytes", 16, b(0x8B, le32(Integer.MAX_VALUE)), limits);
            limit("maxIntegerBytes", 16, b(0x8A, 17, new byte[17], '.'), limits);
        }

        @Test
        void maxIntegerBytesForTextIntegers() {
            String digits = "9".repeat(100_000);
            limit("maxIntegerBytes", 10_000, b("I", digits, "\n."), LoadLimits.defaults());
            limit("maxIntegerBytes", 10_000, b("L", digits, "L\n."), LoadLimits.defaults());
            limit("maxIntegerBytes", 16, b("I", "9".repeat(40), "\n."),
                    LoadLimits.builder().maxIntegerBytes(16).build());
        }

        @Test
        void aHundredThousandDigitIntIsRefusedQuickly() {
            String digits = "9".repeat(100_000);
            assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
                try {
                    load(b("I", digits, "\n."));
                    fail("loaded");
                } catch (LimitExceededException e) {
                    assertTrue(e.getMessage().contains("maxIntegerBytes"), e.getMessage());
                }
            });
        }

        @Test
        void maxObjects() throws Exception {
            LoadLimits limits = LoadLimits.builder().maxObjects(5).build();
            assertEquals(4, ((PyTuple) run(b('(', repeat(b(']'), 4), 't', '.'), torchHost(), limits).value()).size());
            limit("maxObjects", 5, b(repeat(b(']'), 6), '.'), limits);
            limit("maxObjects", 5, b(repeat(b(str("x")), 6), '.'), limits);
            limit("maxObjects", 5, b('N', repeat(b(0x85), 6), '.'), limits);
            limit("maxObjects", 5, b(repeat(b(global("collections", "OrderedDict"), ')', 'R', '0'), 6), 'N', '.'),
                    limits);
        }

        @Test
        void maxNestingDepthOfTuples() throws Exception {
            byte[] deep = b('K', 1, repeat(b(0x85), 2000), '.');
            LimitExceededException e = limit("maxNestingDepth", 1000, deep, LoadLimits.defaults());
            assertEquals(1 + 1001, e.pickleOffset());
            Object ok = load(b('K', 1, repeat(b(0x85), 1000), '.'));
            assertEquals(1000, ((PyTuple) ok).depth());
            limit("maxNestingDepth", 1000, b('K', 1, repeat(b('K', 2, 0x86), 1001), '.'), LoadLimits.defaults());
        }

        @Test
        void limitMessagesNameTheRemedy() {
            LimitExceededException e = limit("maxObjects", 5, b(repeat(b(']'), 6), '.'),
                    LoadLimits.builder().maxObjects(5).build());
            assertTrue(e.getMessage().startsWith("test.pkl: at pickle offset 5: more than 5 values created"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("LoadLimits.builder().maxObjects(...)"), e.getMessage());
        }
    }

    /** Inputs built to make hashing, comparing or printing recurse or blow up. */
    @Nested
    class Amplification {

        @Test
        void frozensetsNestedThroughTheMemoAreBoundedByNestingDepth() {
            // fs_k = frozenset({fs_(k-1)}): one MARK open at a time, so only a nesting limit can stop it
            byte[] p = b('(', 0x91, 'q', 0, '0', repeat(b('(', 'h', 0, 0x91, 'q', 0, '0'), 200_000), 'h', 0, '.');
            assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
                LimitExceededException e = refuse(LimitExceededException.class, "maxNestingDepth", p);
                assertEquals("maxNestingDepth", e.limitName());
                assertEquals(5 + 999 * 7 + 3, e.pickleOffset()); // the FROZENSET making depth 1001
            });
        }

        @Test
        void frozensetsNestedToTheLimitLoadQuickly() {
            // frozenset({x}) must not hash like x (as a plain sum of item hashes would): all 1000 would collide
            byte[] p = b('(', 0x91, 'q', 0, '0', repeat(b('(', 'h', 0, 0x91, 'q', 0, '0'), 999), 'h', 0, '.');
            assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
                PySet s = assertInstanceOf(PySet.class, load(p));
                assertEquals(1000, PythonAccess.ops().depth(s));
            });
        }

        @Test
        void tuplesAndFrozensetsInterleavedAreBoundedByNestingDepth() {
            byte[] p = b('K', 1, 'q', 0, '0', repeat(b('(', 'h', 0, 0x91, 0x85, 'q', 0, '0'), 200_000), 'h', 0, '.');
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                LimitExceededException e = refuse(LimitExceededException.class, "maxNestingDepth", p);
                assertEquals("maxNestingDepth", e.limitName());
            });
        }

        @Test
        void sharedSubtuplesDoNotMakeHashingExponential() {
            // t_k = (t_(k-1), t_(k-1)): 200 bytes describe a tree of 2^60 leaves, used as a dict key
            byte[] p = b('}', 'K', 1, 0x85, repeat(b('2', 0x86), 60), 'N', 's', '.');
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                PyDict d = assertInstanceOf(PyDict.class, load(p));
                assertEquals(1, d.size());
            });
        }

        @Test
        void equalSharedTuplesBuiltTwiceDoNotMakeComparisonExponential() {
            byte[] dag = b('K', 1, 0x85, repeat(b('2', 0x86), 60));
            byte[] p = b('}', '(', dag, 'K', 1, dag, 'K', 2, 'u', '.');
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                PyDict d = assertInstanceOf(PyDict.class, load(p));
                assertEquals(1, d.size());
                assertEquals(2L, d.values().iterator().next());
            });
        }

        @Test
        void sharedFrozensetsDoNotMakeHashingExponential() {
            // f_k = frozenset({(f_(k-1), 1), (f_(k-1), 2)})
            byte[] p = b('(', 0x91, 'q', 0, '0',
                    repeat(b('(', 'h', 0, 'K', 1, 0x86, 'h', 0, 'K', 2, 0x86, 0x91, 'q', 0, '0'), 60),
                    '}', 'h', 0, 'N', 's', '(', 0x91, 'q', 0, '0',
                    repeat(b('(', 'h', 0, 'K', 1, 0x86, 'h', 0, 'K', 2, 0x86, 0x91, 'q', 0, '0'), 60),
                    'h', 0, 'K', 1, 's', '.');
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                PyDict d = assertInstanceOf(PyDict.class, load(p));
                assertEquals(1, d.size());
            });
        }

        @Test
        void equalNestedHashableValuesShareOneInstance() throws Exception {
            // what keeps comparisons linear: equal tuples of tuples (and frozensets) are one object
            PyTuple t = assertInstanceOf(PyTuple.class, load(b('(', 'K', 1, 0x85, 0x85, 'K', 1, 0x85, 0x85,
                    '(', 'K', 2, 0x91, '(', 'K', 2, 0x91, 't', '.')));
            assertSame(t.get(0), t.get(1));
            assertSame(t.get(2), t.get(3));
            // flat tuples and anything unhashable keep their own identity
            PyTuple u = assertInstanceOf(PyTuple.class, load(b('(', 'K', 1, 0x85, 'K', 1, 0x85, ']', 0x85, ']', 0x85,
                    't', '.')));
            assertEquals(u.get(0), u.get(1));
            assertTrue(u.get(2) != u.get(3));
        }

        @Test
        void hashCollisionsDoNotConfuseDistinctKeys() throws Exception {
            // Long 0 and 2^32+1 have the same Java hash; keys nesting them differ, and both stay
            byte[] other = b(0x8A, 5, 1, 0, 0, 0, 1);
            PyDict d = assertInstanceOf(PyDict.class, load(b('}', '(',
                    'K', 0, 0x85, 0x85, 'K', 1, 'K', 0, 0x85, 0x85, 'K', 2,
                    other, 0x85, 0x85, 'K', 3, '(', 'K', 0, 0x91, 0x85, 'K', 4, '(', other, 0x91, 0x85, 'K', 5,
                    'u', '.')));
            assertEquals(4, d.size());
            assertEquals(2L, d.get(PyTuple.of(PyTuple.of(0L))));
            assertEquals(3L, d.get(PyTuple.of(PyTuple.of((1L << 32) + 1))));
        }

        @Test
        void replacingObjectsInsideFrozensetsKeepsTupleKeysFindable() throws Exception {
            // {(frozenset({Thing()}),): 1}, then Thing() replaced: the key must be found by value afterwards
            byte[] p = b('}', '(', global("mymod", "Thing"), ')', 'R', 0x91, 0x85, 'K', 1, 's', '.');
            Object root = load(p, Pickles.torchHost(Set.of("mymod.Thing"), LoadLimits.defaults()));
            PyTuple before = (PyTuple) ((PyDict) root).keySet().iterator().next();
            PyDict d = assertInstanceOf(PyDict.class,
                    ObjectReplacement.apply(root, o -> "thing", LoadLimits.defaults(), Pickles.WHERE));
            PySet expected = PythonAccess.ops().newSet(false);
            PythonAccess.ops().addItem(expected, "thing");
            PythonAccess.ops().freeze(expected);
            assertEquals(1L, d.get(PyTuple.of(expected)));
            PyTuple key = (PyTuple) d.keySet().iterator().next();
            assertEquals(PyTuple.of(expected).hashCode(), key.hashCode());
            // the loaded frozenset is a value: it was not changed in place
            assertEquals("mymod.Thing", ((PyObject) ((PySet) before.get(0)).iterator().next()).className());
        }

        @Test
        void deeplyNestedAllowedObjectsCanBeNamedInMessages() {
            // o_k = Thing(o_(k-1)); then REDUCE with o_k as the callee, whose message renders it
            byte[] p = b(global("mymod", "Thing"), 'q', 0, ')', 'R', 'q', 1, '0',
                    repeat(b('h', 0, 'h', 1, 0x85, 'R', 'q', 1, '0'), 100_000), 'h', 1, ')', 'R', '.');
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                UnsafeCheckpointException e = refuse(UnsafeCheckpointException.class,
                        "Trying to call reduce for unrecognized function mymod.Thing", p,
                        Pickles.torchHost(Set.of("mymod.Thing"), LoadLimits.defaults()), LoadLimits.defaults());
                assertTrue(e.getMessage().length() < 1000, e.getMessage());
            });
        }
    }
}
