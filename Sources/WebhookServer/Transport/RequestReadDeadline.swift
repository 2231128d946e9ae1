import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Bounds how long a client may take to send a request: its head must be complete within
/// `head` of its first byte (for the first request, of the connection's start, TLS handshake
/// included), and its body within `body` of the head. A client that trickles
/// bytes (slowloris) is disconnected instead of holding a connection and a task forever. Idle
/// keep-alive connections between requests are left to the idle timeout.
///
/// Two handlers share one `State`: `RawReads` (right after TLS) sees a request's first bytes,
/// `Parts` (right after the HTTP decoder) sees where the head and the request end, and when the
/// response is finished.
enum RequestReadDeadline {
    /// The deadline moves with every request, but the timer does not: it is scheduled once and,
    /// when it fires, either closes the connection (deadline passed), re-arms itself for the
    /// current deadline (moved later), or stops (no deadline: between requests). So a request
    /// costs two clock reads, not two timers scheduled and cancelled.
    final class State {
        enum Phase { case idle, head, body, answering }
        var phase = Phase.idle
        /// When the connection is closed unless the current phase ended; nil: no deadline.
        var deadline: NIODeadline?
        var timer: Scheduled<Void>?
        /// When `timer` fires.
        var timerDeadline = NIODeadline.uptimeNanoseconds(0)
        let head: TimeAmount
        let body: TimeAmount
        let stats: ConnectionStats

        init(head: TimeAmount, body: TimeAmount, stats: ConnectionStats) {
            self.head = head
            self.body = body
            self.stats = stats
        }

        func arm(_ context: ChannelHandlerContext, after delay: TimeAmount) {
            let due = NIODeadline.now() + delay
            deadline = due
            if timer != nil, timerDeadline <= due { return }  // fires first, then follows the deadline
            timer?.cancel()
            schedule(context, at: due)
        }

        private func schedule(_ context: ChannelHandlerContext, at due: NIODeadline) {
            let loop = context.eventLoop.assumeIsolated()
            let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
            timerDeadline = due
            timer = loop.scheduleTask(deadline: due) { [self] in
                timer = nil
                guard let deadline else { return }
                if deadline <= .now() {
                    stats.slowClosed.add(1, ordering: .relaxed)
                    ctx.value.close(promise: nil)
                } else {
                    schedule(ctx.value, at: deadline)
                }
            }
        }

        func disarm() {
            deadline = nil
        }

        func stop() {
            deadline = nil
            timer?.cancel()
            timer = nil
        }
    }

    final class RawReads: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let state: State
        init(state: State) { self.state = state }

        /// The first head's deadline runs from the connection's start, so a client that never
        /// finishes the TLS handshake (or never sends a byte) does not hold a connection either.
        func handlerAdded(context: ChannelHandlerContext) {
            state.phase = .head
            state.arm(context, after: state.head)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if state.phase == .idle {
                state.phase = .head
                state.arm(context, after: state.head)
            }
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.stop()
            context.fireChannelInactive()
        }
    }

    final class Parts: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        let state: State
        init(state: State) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head:
                state.phase = .body
                state.arm(context, after: state.body)
            case .body:
                break
            case .end:
                state.phase = .answering
                state.disarm()
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) {
                // The next bytes start the next request.
                if state.phase == .answering { state.phase = .idle }
            }
            context.write(data, promise: promise)
        }
    }

    /// Adds both handlers: the raw one now (call right after the TLS handler), the HTTP one after
    /// the request decoder once the HTTP pipeline exists (`addParts`).
    static func addRaw(to channel: any Channel, head: TimeAmount, body: TimeAmount, stats: ConnectionStats) throws -> State {
        let state = State(head: head, body: body, stats: stats)
        try channel.pipeline.syncOperations.addHandler(RawReads(state: state))
        return state
    }

    static func addParts(to channel: any Channel, state: State) throws {
        let decoder = try channel.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
        try channel.pipeline.syncOperations.addHandler(Parts(state: state), position: .after(decoder.handler))
    }
}
