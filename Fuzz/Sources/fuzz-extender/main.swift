import FuzzChecks

FuzzDriver.run(target: "extender")
