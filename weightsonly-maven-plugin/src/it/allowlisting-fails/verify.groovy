// Without <allow>, a file whose globals need allowlisting fails the build too.
String log = new File(basedir, "build.log").text
assert log.contains("[ERROR] src/test/resources/config.pt: needs allowlisting: mymodel.Config (needs allowlisting)")
assert log.contains("1 model file(s) a weights-only load would refuse: src/test/resources/config.pt (")
return true
