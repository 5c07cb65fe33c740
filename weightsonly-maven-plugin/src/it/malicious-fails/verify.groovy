// The build failed (invoker.properties) because of the malicious file, which the log and the report name.
String log = new File(basedir, "build.log").text
assert log.contains("[ERROR] src/main/resources/models/evil.pt: dangerous: posix.system (dangerous)")
assert log.contains("1 model file(s) a weights-only load would refuse: src/main/resources/models/evil.pt (")
assert log.contains("3 model file(s) in 2 folder(s): 1 clean, 1 need allowlisting, 1 dangerous or malformed")
String sarif = new File(basedir, "target/weightsonly-scan.sarif").text
assert sarif.contains('"version":"2.1.0"')
assert sarif.contains('"ruleId":"WO001"') && sarif.contains('"global":"posix.system"')
assert sarif.contains('"uri":"src/main/resources/models/evil.pt","uriBaseId":"%SRCROOT%"')
return true
