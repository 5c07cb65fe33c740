evaluate(new File(basedir, "../../../src/it/checkpoints.groovy"))
