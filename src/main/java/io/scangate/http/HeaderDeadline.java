package io.scangate.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.scangate.error.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The header read timeout (slowloris): a request's head — request line and headers — must be
 * complete within the timeout of its first byte (of the accept, for a connection's first request),
 * else the connection is answered {@code 408 request_timeout} (when no answer is being written on
 * it) and closed; a connection that sent nothing at all by then is closed without an answer. On a kept-alive connection the deadline starts again with the first byte of each
 * request after the previous one was read. Once a head is complete nothing here applies: the body
 * has {@link ReadTimeouts}, and an SSE stream or a long poll is the gateway holding an answer, not a
 * read, so it is never cut. (One case is left to the 90 s idle timeout: a pipelined client whose next
 * partial head arrives in the same read as the end of its previous request, then nothing more; a
 * drip after it is timed.)
 *
 * <p><b>Why Vert.x internals.</b> Vert.x 5 has no option for this (its idle timeout is reset by any
 * byte, so a one-byte drip keeps a half head open forever) and hands the application nothing before a
 * request's head is complete. The one place that sees bytes before that is the connection's Netty
 * pipeline, reached here and nowhere else, through two internal facts:
 * <ul>
 *   <li>the {@link HttpConnection} that {@code HttpServer.connectionHandler} receives for HTTP/1.x is
 *       a {@code io.vertx.core.net.impl.ConnectionBase}, whose {@code channel()} is the Netty channel,
 *       with Netty's {@link HttpRequestDecoder} already in its pipeline and Vert.x's own handler at
 *       {@code channelHandlerContext()};</li>
 *   <li>that handler runs when the connection is accepted only with cleartext HTTP/2 (h2c) off:
 *       with h2c on, Vert.x builds the HTTP/1.x connection only after the first request head
 *       (see {@code Http1xUpgradeToH2CHandler}), too late to time it. {@link HttpVerticle} turns h2c off.</li>
 * </ul>
 * {@code HeaderDeadlineTest} fails if a Vert.x upgrade breaks either; {@link #attach} logs a warning
 * (once) instead of failing connections if the connection is not what it expects.
 */
final class HeaderDeadline {

  private static final Logger log = LoggerFactory.getLogger("scangate.http");
  private static final AtomicBoolean warned = new AtomicBoolean();

  private final long timeoutMs;

  HeaderDeadline(Duration timeout) {
    this.timeoutMs = Math.max(1, timeout.toMillis());
  }

  /** For {@code HttpServer.connectionHandler}: times every request head on each HTTP/1.x connection. */
  Handler<HttpConnection> connectionHandler() {
    return this::attach;
  }

  /** Puts the deadline on one connection; false (and a warning, once) if Vert.x's internals changed. */
  boolean attach(HttpConnection connection) {
    if (!(connection instanceof io.vertx.core.net.impl.ConnectionBase base)) {
      // HTTP/2 connections are ConnectionBase too and have no HTTP/1.x decoder: nothing to time there.
      unexpected("the connection is a " + connection.getClass().getName());
      return false;
    }
    Channel channel = base.channel();
    ChannelPipeline pipeline = channel.pipeline();
    ChannelHandlerContext decoder = pipeline.context(HttpRequestDecoder.class);
    ChannelHandlerContext vertxHandler = base.channelHandlerContext();
    if (decoder == null) {
      unexpected("no HTTP/1.x decoder in the connection's pipeline");
      return false;
    }
    if (vertxHandler == null || vertxHandler.isRemoved()) {
      unexpected("no Vert.x handler context on the connection");
      return false;
    }
    Watch watch = new Watch(channel);
    pipeline.addBefore(decoder.name(), "scangateHeaderBytes", watch.bytes);
    pipeline.addBefore(vertxHandler.name(), "scangateHeaderHeads", watch.heads);
    if (channel.eventLoop().inEventLoop()) {
      watch.arm();
    } else {
      channel.eventLoop().execute(watch::arm);
    }
    return true;
  }

  private static void unexpected(String what) {
    if (warned.compareAndSet(false, true)) {
      log.atWarn().addKeyValue("reason", what)
          .log("header read timeout is off: Vert.x's HTTP connection is not what HeaderDeadline expects (a Vert.x upgrade?)");
    }
  }

  /** One connection's state; touched only on its event loop. */
  private final class Watch {

    private final Channel channel;
    /** Armed while a head is awaited: from accept, or from a request's first byte. */
    private ScheduledFuture<?> timer;
    /** A head was decoded and its request's last content was not yet: its bytes are body, not head. */
    private boolean inRequest;
    /** An answer has begun and not ended: a 408 written now would land inside it. */
    private boolean answering;
    private long headsDecoded;
    /** Some of the awaited head has arrived (not set for a connection that was opened and never used). */
    private boolean headStarted;
    private ChannelHandlerContext bytesContext;

    /** Before the HTTP decoder: sees the raw bytes, and arms the deadline on the first of a head. */
    final ChannelInboundHandlerAdapter bytes = new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        bytesContext = ctx;
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!inRequest && msg instanceof ByteBuf buf && buf.isReadable()) headStarted = true;
        if (timer != null || inRequest || !(msg instanceof ByteBuf buf) || !buf.isReadable()) {
          ctx.fireChannelRead(msg);
          return;
        }
        if (ctx.pipeline().get(HttpRequestDecoder.class) == null) {
          // The connection stopped being HTTP/1.x (an upgrade): nothing left to time.
          ctx.pipeline().remove(heads);
          ctx.pipeline().remove(this);
          ctx.fireChannelRead(msg);
          return;
        }
        // The first bytes of a head. Most heads arrive whole, in this very read: time only those that do not.
        long before = headsDecoded;
        ctx.fireChannelRead(msg);
        if (headsDecoded == before) arm();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
      }

      @Override
      public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
      }
    };

    /** Just before Vert.x's handler: sees decoded heads coming in and answers going out. */
    final ChannelDuplexHandler heads = new ChannelDuplexHandler() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
          cancel();
          headsDecoded++;
          headStarted = false;
          inRequest = true;
        }
        if (msg instanceof LastHttpContent) inRequest = false;
        ctx.fireChannelRead(msg);
      }

      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse) answering = true;
        if (msg instanceof LastHttpContent) answering = false;
        ctx.write(msg, promise);
      }
    };

    Watch(Channel channel) {
      this.channel = channel;
    }

    void arm() {
      if (timer == null && channel.isActive()) {
        timer = channel.eventLoop().schedule(this::expire, timeoutMs, TimeUnit.MILLISECONDS);
      }
    }

    void cancel() {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }

    private void expire() {
      timer = null;
      if (!channel.isActive()) return;
      if (!headStarted) {
        // Opened and never used (a browser's or a proxy's spare connection, or a slowloris that sends
        // nothing): no request to answer, and a 408 could cross a request sent at this very moment.
        log.atDebug().addKeyValue("timeoutMs", timeoutMs).log("connection closed: no request arrived in time");
        channel.close();
        return;
      }
      // A misbehaving (or very slow) client, not a fault of ours: one quiet line.
      log.atInfo().addKeyValue("timeoutMs", timeoutMs).addKeyValue("answered", !answering)
          .log("connection closed: request headers did not arrive in time");
      if (answering || bytesContext == null || bytesContext.isRemoved()) {
        channel.close();
        return;
      }
      // Raw bytes written below the HTTP encoder: no request exists for Vert.x to answer.
      bytesContext.writeAndFlush(Unpooled.wrappedBuffer(TIMEOUT_ANSWER)).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static final byte[] TIMEOUT_ANSWER = answer();

  private static byte[] answer() {
    byte[] body = ErrorShape.API.body(new ApiException(408, "request_timeout", "The request headers did not arrive in time"))
        .encode().getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + HttpResponseStatus.REQUEST_TIMEOUT + "\r\n"
        + "Content-Type: application/json; charset=utf-8\r\n"
        + "Cache-Control: no-store\r\n"
        + "X-Content-Type-Options: nosniff\r\n"
        + "Connection: close\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, all, 0, headBytes.length);
    System.arraycopy(body, 0, all, headBytes.length, body.length);
    return all;
  }
}
