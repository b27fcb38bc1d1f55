package io.scangate.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One mapping of the YAML tree, read field by field. Problems are collected (never thrown) so that
 * one run reports everything that is wrong, each line starting with the field's path.
 * Messages never repeat a value: it might be a secret.
 */
final class Section {

  private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

  private final String path;
  private final JsonNode node;
  private final Map<String, String> env;
  private final List<String> problems;
  private final Set<String> read = new HashSet<>();

  Section(String path, JsonNode node, Map<String, String> env, List<String> problems) {
    this.path = path;
    this.node = node == null ? MissingNode.getInstance() : node;
    this.env = env;
    this.problems = problems;
    if (!this.node.isMissingNode() && !this.node.isNull() && !this.node.isObject()) {
      problem("", "must be a mapping");
    }
  }

  String path(String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  void problem(String field, String message) {
    String where = field.isEmpty() ? path : path(field);
    problems.add((where.isEmpty() ? "(root)" : where) + ": " + message);
  }

  boolean has(String field) {
    JsonNode value = node.path(field);
    return !value.isMissingNode() && !value.isNull();
  }

  /** A scalar with environment references expanded; empty if absent. */
  Optional<String> text(String field) {
    read.add(field);
    JsonNode value = node.path(field);
    if (value.isMissingNode() || value.isNull()) return Optional.empty();
    if (!value.isValueNode()) {
      problem(field, "must be a single value");
      return Optional.empty();
    }
    return expand(field, value.asText());
  }

  String text(String field, String defaultValue) {
    return text(field).orElse(defaultValue);
  }

  String required(String field) {
    Optional<String> value = text(field);
    if (value.isEmpty()) {
      // Present but unexpandable was reported already.
      if (!has(field)) problem(field, "is required");
      return null;
    }
    if (value.get().isEmpty()) {
      problem(field, "must not be empty");
      return null;
    }
    return value.get();
  }

  String matching(String field, String defaultValue, Pattern pattern, String rule) {
    String value = text(field, defaultValue);
    if (value != null && !pattern.matcher(value).matches()) {
      problem(field, rule);
      return defaultValue;
    }
    return value;
  }

  int integer(String field, int defaultValue, int min, int max) {
    Optional<String> value = text(field);
    if (value.isEmpty()) return defaultValue;
    try {
      int parsed = Integer.parseInt(value.get().trim());
      if (parsed >= min && parsed <= max) return parsed;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    problem(field, "must be a whole number from " + min + " to " + max);
    return defaultValue;
  }

  /** An optional whole number: null if absent (or wrong, which is reported). */
  Integer optionalInteger(String field, int min, int max) {
    int value = integer(field, Integer.MIN_VALUE, min, max); // min > MIN_VALUE: never a valid value
    return value == Integer.MIN_VALUE ? null : value;
  }

  boolean bool(String field, boolean defaultValue) {
    Optional<String> value = text(field);
    if (value.isEmpty()) return defaultValue;
    return switch (value.get().trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        problem(field, "must be true or false");
        yield defaultValue;
      }
    };
  }

  Duration duration(String field, Duration defaultValue, Duration min, Duration max) {
    Optional<String> value = text(field);
    if (value.isEmpty()) return defaultValue;
    try {
      Duration parsed = Duration.parse(value.get().trim());
      if (parsed.compareTo(min) >= 0 && parsed.compareTo(max) <= 0) return parsed;
      problem(field, "must be between " + min + " and " + max);
    } catch (DateTimeParseException e) {
      problem(field, "must be an ISO-8601 duration such as PT2M or P30D");
    }
    return defaultValue;
  }

  <E extends Enum<E>> E choice(String field, E defaultValue, Class<E> type) {
    Optional<String> value = text(field);
    if (value.isEmpty()) return defaultValue;
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equalsIgnoreCase(value.get().trim())) return constant;
    }
    problem(field, "must be one of " + lowerNames(type));
    return defaultValue;
  }

  static <E extends Enum<E>> String lowerNames(Class<E> type) {
    List<String> names = new ArrayList<>();
    for (E constant : type.getEnumConstants()) names.add(constant.name().toLowerCase(Locale.ROOT));
    return String.join(" | ", names);
  }

  /** A list of scalars; {@code defaultValue} if absent. */
  List<String> strings(String field, List<String> defaultValue) {
    return strings(field, defaultValue, value -> null);
  }

  /**
   * A list of scalars, each checked by {@code rule} (null: fine, else the problem, reported at the
   * item's own index); items with a problem are left out. {@code defaultValue} if absent.
   */
  List<String> strings(String field, List<String> defaultValue, Function<String, String> rule) {
    read.add(field);
    JsonNode value = node.path(field);
    if (value.isMissingNode() || value.isNull()) return defaultValue;
    if (!value.isArray()) {
      problem(field, "must be a list");
      return defaultValue;
    }
    List<String> result = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      String itemPath = field + "[" + i + "]";
      if (!item.isValueNode() || item.isNull()) {
        problem(itemPath, "must be a single value");
        continue;
      }
      Optional<String> expanded = expand(itemPath, item.asText());
      if (expanded.isEmpty()) continue;
      String problem = rule.apply(expanded.get());
      if (problem != null) problem(itemPath, problem);
      else result.add(expanded.get());
    }
    return List.copyOf(result);
  }

  Section section(String field) {
    read.add(field);
    return new Section(path(field), node.path(field), env, problems);
  }

  /** A list of mappings, each read by {@code reader}; items that had problems are still returned. */
  <T> List<T> sections(String field, Function<Section, T> reader) {
    read.add(field);
    JsonNode value = node.path(field);
    if (value.isMissingNode() || value.isNull()) return List.of();
    if (!value.isArray()) {
      problem(field, "must be a list");
      return List.of();
    }
    List<T> result = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      Section item = new Section(path(field) + "[" + i + "]", value.get(i), env, problems);
      T parsed = reader.apply(item);
      item.rejectUnknownFields();
      if (parsed != null) result.add(parsed);
    }
    return List.copyOf(result);
  }

  void markRead(String field) {
    read.add(field);
  }

  /** A misspelt key would otherwise be silently ignored (think {@code loginonly: true}). */
  void rejectUnknownFields() {
    if (!node.isObject()) return;
    node.fieldNames().forEachRemaining(name -> {
      if (!read.contains(name)) problem(name, "unknown field");
    });
  }

  private Optional<String> expand(String field, String raw) {
    Matcher m = ENV_REFERENCE.matcher(raw);
    StringBuilder out = new StringBuilder();
    boolean ok = true;
    while (m.find()) {
      String value = env.get(m.group(1));
      if (value == null) value = m.group(2);
      if (value == null) {
        problem(field, "environment variable " + m.group(1) + " is not set");
        ok = false;
        value = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return ok ? Optional.of(out.toString()) : Optional.empty();
  }
}
