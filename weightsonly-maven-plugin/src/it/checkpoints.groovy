// Writes the checkpoints an integration project lists in checkpoints.list ("path kind" per line), so that no
// malicious file is committed: each is a torch.save-style zip (stored records, as torch writes them) whose
// data.pkl is built here byte by byte. Run from each project's setup.groovy with its binding (basedir).
import java.nio.file.Files
import java.util.zip.CRC32
import java.util.zip.ZipEntry
import java.util.zip.ZipOutputStream

byte[] global(String module, String name) { ("c" + module + "\n" + name + "\n").getBytes("US-ASCII") }

byte[] cat(List parts) {
    def out = new ByteArrayOutputStream()
    parts.each { out.write(it instanceof byte[] ? it : (it as List).collect { b -> (byte) b } as byte[]) }
    out.toByteArray()
}

// PROTO 2, GLOBAL posix.system, BINUNICODE 'echo pwned', TUPLE1, REDUCE, STOP: runs a shell command when unpickled.
byte[] systemCall() {
    byte[] arg = "echo pwned".getBytes("US-ASCII")
    cat([[0x80, 2], global("posix", "system"), [0x58, arg.length, 0, 0, 0], arg, [0x85, 0x52, 0x2E]])
}

// PROTO 2, GLOBAL mymodel.Config, EMPTY_TUPLE, NEWOBJ, STOP: a user class, refused unless allowed.
byte[] userClass() { cat([[0x80, 2], global("mymodel", "Config"), [0x29, 0x81, 0x2E]]) }

void writeZip(File file, byte[] pickle) {
    file.parentFile.mkdirs()
    new ZipOutputStream(new FileOutputStream(file)).withCloseable { zip ->
        [["archive/data.pkl", pickle], ["archive/version", "3\n".getBytes("US-ASCII")]].each { entry ->
            byte[] data = entry[1]
            def e = new ZipEntry(entry[0])
            e.method = ZipEntry.STORED
            e.size = data.length
            e.compressedSize = data.length
            def crc = new CRC32()
            crc.update(data)
            e.crc = crc.value
            zip.putNextEntry(e)
            zip.write(data)
            zip.closeEntry()
        }
    }
}

File root = basedir
File repo = new File(root, "../../../..").canonicalFile // the project's root folder, above target/it/NAME
new File(root, "checkpoints.list").readLines().findAll { it.trim() }.each { line ->
    def (path, kind) = line.trim().split(/\s+/)
    File target = new File(root, path)
    switch (kind) {
        case "clean": // a real torch.save state dict, one of the project's own fixtures
            target.parentFile.mkdirs()
            Files.copy(new File(repo, "loader-core/src/test/resources/fixtures/sd_linear.pt").toPath(), target.toPath())
            break
        case "system-call": writeZip(target, systemCall()); break
        case "user-class": writeZip(target, userClass()); break
        default: throw new IllegalArgumentException("unknown checkpoint kind " + kind)
    }
}
return true
