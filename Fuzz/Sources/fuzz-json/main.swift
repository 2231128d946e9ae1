import FuzzChecks

FuzzDriver.run(target: "json")
