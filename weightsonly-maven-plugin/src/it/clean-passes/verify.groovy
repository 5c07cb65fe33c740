// The same project without the malicious file builds; the file needing allowlisting is listed in <allow>.
String log = new File(basedir, "build.log").text
assert log.contains("BUILD SUCCESS")
assert log.contains("[WARNING] src/test/resources/config.pt: needs allowlisting: mymodel.Config (needs allowlisting) (allowed by <allow>)")
assert log.contains("2 model file(s) in 2 folder(s): 1 clean, 1 need allowlisting, 0 dangerous or malformed, 0 unreadable")
String sarif = new File(basedir, "target/weightsonly-scan.sarif").text
assert sarif.contains('"ruleId":"WO002"') && !sarif.contains('"ruleId":"WO001"')
return true
