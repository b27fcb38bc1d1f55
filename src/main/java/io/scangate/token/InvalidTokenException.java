package io.scangate.token;

/** A token that is not accepted; the message is the precise {@code error_description}, never the token. */
public class InvalidTokenException extends Exception {

  public InvalidTokenException(String description) {
    super(description, null, false, false);
  }
}
