package io.scangate.error;

import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one error type: an HTTP status, a snake_case code from {@code docs/errors.md}, and a message
 * shown to the caller (name the problem, never a secret). Each HTTP surface renders it in its own
 * shape ({@code {error, message}} for our API, RFC 6749's {@code {error, error_description}}
 * under {@code /oidc}).
 *
 * <p>It is a {@link ServiceException}, so it crosses the event bus as it is: the failure code is
 * the status and the debug info carries the code and extra headers. {@link #from} turns what
 * arrives on the other side back into an {@code ApiException}, never by parsing a message.
 */
public class ApiException extends ServiceException {

  private static final String CODE = "error";
  private static final String HEADERS = "headers";

  public ApiException(int status, String code, String message) {
    this(status, code, message, Map.of());
  }

  /** With headers the answer carries besides the error body (Retry-After, WWW-Authenticate). */
  public ApiException(int status, String code, String message, Map<String, String> headers) {
    super(status, message, debugInfo(code, headers));
  }

  private static JsonObject debugInfo(String code, Map<String, String> headers) {
    JsonObject info = new JsonObject().put(CODE, code);
    if (!headers.isEmpty()) info.put(HEADERS, new JsonObject(new LinkedHashMap<>(headers)));
    return info;
  }

  public int status() {
    return failureCode();
  }

  public String code() {
    return getDebugInfo().getString(CODE);
  }

  public Map<String, String> headers() {
    JsonObject headers = getDebugInfo().getJsonObject(HEADERS);
    if (headers == null) return Map.of();
    Map<String, String> out = new LinkedHashMap<>();
    headers.forEach(e -> out.put(e.getKey(), String.valueOf(e.getValue())));
    return out;
  }

  /**
   * The ApiException a failure stands for: itself, or one that crossed the event bus (a
   * {@link ServiceException} whose debug info names a code); otherwise null.
   */
  public static ApiException from(Throwable failure) {
    if (failure instanceof ApiException api) return api;
    if (failure instanceof ServiceException service && service.getDebugInfo() != null
        && service.getDebugInfo().getValue(CODE) instanceof String code
        && service.failureCode() >= 400 && service.failureCode() < 600) {
      ApiException copy = new ApiException(service.failureCode(), code, service.getMessage());
      copy.getDebugInfo().mergeIn(service.getDebugInfo());
      return copy;
    }
    return null;
  }

  public static ApiException badRequest(String code, String message) {
    return new ApiException(400, code, message);
  }

  public static ApiException notFound(String code, String message) {
    return new ApiException(404, code, message);
  }

  public static ApiException conflict(String code, String message) {
    return new ApiException(409, code, message);
  }

  public static ApiException unavailable(String message) {
    return new ApiException(503, "service_unavailable", message);
  }

  public static ApiException internal(String message) {
    return new ApiException(500, "internal_error", message);
  }

  @Override
  public String toString() {
    return "ApiException[" + status() + " " + code() + ": " + getMessage() + "]";
  }
}
