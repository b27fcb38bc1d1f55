package io.scangate.config;

import java.util.List;

/** Thrown when a configuration file has problems; carries every problem, each naming its field path. */
public final class ConfigException extends Exception {

  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
