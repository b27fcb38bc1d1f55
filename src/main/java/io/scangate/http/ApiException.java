package io.scangate.http;

/**
 * A refusal that becomes {@code {"error": code, "message": message}} with the given HTTP status.
 * The message is shown to the caller: name the problem, never a secret.
 */
public class ApiException extends RuntimeException {

  private final int status;
  private final String code;

  public ApiException(int status, String code, String message) {
    super(message, null, false, false); // no stack trace: this is an answer, not a bug
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  /** Headers the answer carries besides the JSON error (e.g. Retry-After). */
  public java.util.Map<String, String> headers() {
    return java.util.Map.of();
  }

  public static ApiException badRequest(String code, String message) {
    return new ApiException(400, code, message);
  }

  public static ApiException notFound(String code, String message) {
    return new ApiException(404, code, message);
  }
}
