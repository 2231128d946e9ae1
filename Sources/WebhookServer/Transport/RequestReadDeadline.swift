import NIOCore
import NIOHTTP1
import Synchronization

/// Bounds how long a client may take to send a request: its head must be complete within
/// `head` of its first byte (for the first request, of the connection's start, TLS handshake
/// included), and its body within `body` of the head. A client that trickles
/// bytes (slowloris) is disconnected instead of holding a connection and a task forever. A
/// keep-alive connection idle between requests for `idle` is closed too: these handlers see
/// every request, also those `AnswerOnEventLoop` answers before Hummingbird's connection-state
/// handler could see them, so the idle timeout is theirs.
///
/// The decisions are `RequestReadDeadlineStateMachine`'s. Two handlers share one `Driver`, which
/// feeds the machine and performs its actions: `RawReads` (right after TLS) sees a request's
/// first bytes, `Parts` (right after the HTTP decoder) sees where the head and the request end,
/// and when the response is finished.
enum RequestReadDeadline {
    /// One connection's state machine, its timer and the clock it reads. Used on the channel's
    /// event loop only.
    final class Driver {
        private var machine: RequestReadDeadlineStateMachine
        private var timer: Scheduled<Void>?
        let stats: ConnectionStats
        /// The time passed to the machine. The timer is scheduled on the event loop at the
        /// machine's instants, so this reads the loop's clock (an `EmbeddedEventLoop`'s `now` in a test).
        let now: () -> NIODeadline

        init(
            head: TimeAmount, body: TimeAmount, idle: TimeAmount?, stats: ConnectionStats,
            now: @escaping () -> NIODeadline = NIODeadline.now
        ) {
            self.machine = RequestReadDeadlineStateMachine(head: head, body: body, idle: idle)
            self.stats = stats
            self.now = now
        }

        func connectionStarted(_ context: ChannelHandlerContext) {
            perform(machine.connectionStarted(at: now()), context)
        }

        func bytesRead(_ context: ChannelHandlerContext) {
            perform(machine.bytesRead(at: now()), context)
        }

        func headRead(_ context: ChannelHandlerContext) {
            perform(machine.headRead(at: now()), context)
        }

        func requestRead() {
            machine.requestRead()
        }

        func responseWritten(_ context: ChannelHandlerContext) {
            perform(machine.responseWritten(at: now()), context)
        }

        func connectionClosed(_ context: ChannelHandlerContext) {
            perform(machine.connectionClosed(), context)
        }

        private func perform(_ action: RequestReadDeadlineStateMachine.Action, _ context: ChannelHandlerContext) {
            switch action {
            case .none:
                break
            case .scheduleTimer(let due):
                timer?.cancel()
                let loop = context.eventLoop.assumeIsolated()
                let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
                timer = loop.scheduleTask(deadline: due) { [self] in
                    timer = nil
                    perform(machine.timerFired(at: now()), ctx.value)
                }
            case .cancelTimer:
                timer?.cancel()
                timer = nil
            case .closeAsSlow:
                stats.slowClosed.add(1, ordering: .relaxed)
                context.close(promise: nil)
            case .closeAsIdle:
                context.close(promise: nil)
            }
        }
    }

    final class RawReads: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let driver: Driver
        init(driver: Driver) { self.driver = driver }

        /// The first head's deadline runs from the connection's start, so a client that never
        /// finishes the TLS handshake (or never sends a byte) does not hold a connection either.
        func handlerAdded(context: ChannelHandlerContext) {
            driver.connectionStarted(context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            driver.bytesRead(context)
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            driver.connectionClosed(context)
            context.fireChannelInactive()
        }
    }

    final class Parts: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        let driver: Driver
        init(driver: Driver) { self.driver = driver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: driver.headRead(context)
            case .body: break
            case .end: driver.requestRead()
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { driver.responseWritten(context) }
            context.write(data, promise: promise)
        }
    }

    /// Adds both handlers: the raw one now (call right after the TLS handler), the HTTP one after
    /// the request decoder once the HTTP pipeline exists (`addParts`). `now` is the clock the
    /// deadlines are reckoned with.
    static func addRaw(
        to channel: any Channel, head: TimeAmount, body: TimeAmount, idle: TimeAmount?, stats: ConnectionStats,
        now: @escaping () -> NIODeadline = NIODeadline.now
    ) throws -> Driver {
        let driver = Driver(head: head, body: body, idle: idle, stats: stats, now: now)
        try channel.pipeline.syncOperations.addHandler(RawReads(driver: driver))
        return driver
    }

    static func addParts(to channel: any Channel, driver: Driver) throws {
        let decoder = try channel.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
        try channel.pipeline.syncOperations.addHandler(Parts(driver: driver), position: .after(decoder.handler))
    }
}
