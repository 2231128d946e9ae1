import Foundation
import Hummingbird
import HummingbirdCore
import KubeClient
import Locality
import Logging
import Mutators
import NIOCore
import NIOSSL
import SchedulerExtender
import Synchronization

/// With a client CA configured, the webhook and extender routes answer only clients that
/// presented a certificate (TLS already checked it chains to the CA): kube-apiserver through
/// its AdmissionConfiguration kubeconfig, kube-scheduler through the extender's tlsConfig.
struct ClientCertificateMiddleware: RouterMiddleware {
    typealias Context = LocusRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let certificate = try? await context.channel.nioSSL_peerCertificate().get()
        guard certificate != nil else {
            logger.notice("request without a client certificate refused", metadata: ["path": "\(request.uri.path)"])
            return LocusRoutes.json(
                .unauthorized, "a client certificate signed by the configured client CA is required on \(request.uri.path)")
        }
        return try await next(request, context)
    }
}
