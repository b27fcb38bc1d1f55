package io.scangate.token;

/** An RFC 6749 error: {@code {"error", "error_description"}} with an HTTP status. */
public final class OAuthException extends RuntimeException {

  private final int status;
  private final String error;

  public OAuthException(int status, String error, String description) {
    super(description, null, false, false);
    this.status = status;
    this.error = error;
  }

  public int status() {
    return status;
  }

  public String error() {
    return error;
  }
}
