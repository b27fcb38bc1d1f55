package io.scangate.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 over a plain socket, for requests no HTTP client would send (control characters in
 * headers, request lines and headers over the server's limits, malformed header lines).
 */
public final class RawHttp {

  private RawHttp() {}

  /**
   * Sends {@code request} (ISO-8859-1, byte per char) and reads until the server closes the
   * connection (send {@code Connection: close}, or a request the server refuses) or 10 s pass.
   */
  public static String exchange(int port, String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      } catch (SocketException e) {
        // The server may answer and close before reading everything we send: read what it said.
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      try {
        for (int n; (n = in.read(buffer)) >= 0; ) answer.write(buffer, 0, n);
      } catch (SocketException e) {
        // a reset after the answer
      }
      return answer.toString(StandardCharsets.UTF_8);
    }
  }

  /** The status code of a raw answer. */
  public static int status(String answer) {
    return Integer.parseInt(answer.substring(9, 12));
  }

  /** The body of a raw answer (after the blank line; not chunked). */
  public static String body(String answer) {
    int blank = answer.indexOf("\r\n\r\n");
    return blank < 0 ? "" : answer.substring(blank + 4);
  }
}
