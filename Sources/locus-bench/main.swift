// locus-bench: Locus's own load generator and fixture maker for the benchmarks (scripts/bench-webhook).
//
//   locus-bench rate --port P --body FILE [--path /mutate] [--rate 5000] [--connections 16] [--seconds 20]
//                    [--ca CA.pem] [--reconnect-every N]
//       Open-loop load at a fixed request rate over TLS with keep-alive. Latency is measured from
//       the moment each request was due, so a slow server cannot hide its queueing (no coordinated
//       omission). Every answer must be 200 and a well-formed answer of its route (parsed whole).
//       `--ca` verifies the server against those roots; `--reconnect-every` opens a new connection
//       (a new handshake) after N requests. Prints achieved rate, p50/p90/p99/p99.9/max, failures.
//   locus-bench api-server --nodes N --out DIR [--port P]
//       Serves a production-shaped cluster (ProductionCluster.swift) as kube-apiserver does, over
//       TLS on 127.0.0.1, and writes a kubeconfig for it into DIR (scripts/bench-production).
//   locus-bench schedule --port P --pods N --nodes-file F [--warmup W]
//       kube-scheduler's calls to the extender, one pod after another: /filter then /prioritize,
//       names only, over one keep-alive connection; prints the cost per pod.
//   locus-bench state --pvcs N --datasets M [--daemonsets D]
//       Prints a cluster-state file with N dataset PVCs (and their PVs) over M datasets, and D of
//       their runtimes' FUSE DaemonSets (default M).
import Foundation

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "rate": try await rate(args)
    case "state": state(args)
    case "stages": try stages(args)
    case "extender-fixtures": try extenderFixtures(args)
    case "extender-stages": try extenderStages(args)
    case "api-server": try await apiServer(args)
    case "schedule": try await schedule(args)
    default:
        fail(
            "usage: locus-bench rate --port P --body FILE [--path /mutate] [--rate R] [--connections C] [--seconds S] [--ca CA.pem] "
                + "[--reconnect-every N] [--check-every N] | locus-bench state --pvcs N --datasets M"
        )
    }
} catch {
    fail("\(error)")
}
