import WebhookServer

await LocusCommand.run(arguments: Array(CommandLine.arguments.dropFirst()))
