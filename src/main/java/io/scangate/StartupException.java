package io.scangate;

/** A start-up failure whose message says what is wrong and where; shown without a stack trace. */
public final class StartupException extends RuntimeException {

  public StartupException(String message) {
    super(message, null, false, false);
  }
}
