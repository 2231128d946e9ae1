import FuzzChecks

FuzzDriver.run(target: "admission")
