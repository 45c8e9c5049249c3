package io.berth.node.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.stream.Collectors;

/**
 * The API's one JSON mapper: strict on input (unknown fields, duplicate keys, trailing tokens, nulls for
 * numbers and text for booleans are all refused), ISO-8601 times on output. Jackson's errors become
 * problem details naming the field path ({@code limits.bogus}, {@code command[2]}) and the rule.
 */
final class Json {
  static final ObjectMapper MAPPER = build();

  private Json() {}

  private static ObjectMapper build() {
    JsonMapper m = JsonMapper.builder()
        .addModule(new JavaTimeModule())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .build();
    // "start": "yes" is a mistake, not a boolean.
    m.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    // Numbers must be numbers: "timeoutMillis": "ten" fails with the field named.
    m.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    // And text must be text: "name": 2281327211188578361 is a mistake (the chaos run's fuzzer had one accepted as a
    // container's name). Only limits and signals take either, where a field says so (NumberOrText).
    m.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail).setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    return m;
  }

  /** A field that takes a JSON string or number ({@code "64M"} or {@code 67108864}, {@code "0.5"} or {@code 0.5}) as its text. */
  static final class NumberOrText extends com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer<String> {
    NumberOrText() {
      super(String.class);
    }

    @Override
    public String deserialize(com.fasterxml.jackson.core.JsonParser p, com.fasterxml.jackson.databind.DeserializationContext ctxt)
        throws java.io.IOException {
      return switch (p.currentToken()) {
        case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getText();
        default -> (String) ctxt.handleUnexpectedToken(String.class, p);
      };
    }
  }

  static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("encode " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }

  /** One line of JSON (for SSE {@code data:} and JSON lines): the mapper never indents, so no newline inside. */
  static String line(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("encode " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }

  /** Reads a request body into {@code type}; an empty body is {@code {}}. Failures are 400 problems. */
  static <T> T read(String body, Class<T> type) {
    String text = body == null || body.isBlank() ? "{}" : body;
    try {
      T value = MAPPER.readValue(text, type);
      if (value == null) throw ProblemException.badRequest("malformed-body", "Malformed body", "body", "must be a JSON object", "body: must be a JSON object (got null)");
      return value;
    } catch (UnrecognizedPropertyException e) {
      String field = path(e);
      String known = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
      String rule = "is not a known field" + (known.isEmpty() ? "" : " (known: " + known + ")");
      throw ProblemException.badRequest("unknown-field", "Unknown field", field, rule, field + ": " + rule);
    } catch (MismatchedInputException e) {
      String field = path(e);
      if (field.isEmpty()) field = "body";
      String rule = "must be " + describe(e.getTargetType());
      throw ProblemException.badRequest("invalid-field", "Invalid field", field, rule, field + ": " + rule);
    } catch (JsonMappingException e) {
      String field = path(e);
      if (field.isEmpty()) field = "body";
      throw ProblemException.badRequest("invalid-field", "Invalid field", field, "must be valid", field + ": " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr();
      throw ProblemException.badRequest("malformed-body", "Malformed body", "body", "must be well-formed JSON",
          "body: must be well-formed JSON (" + firstLine(e.getOriginalMessage()) + where + ")");
    }
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        if (sb.length() > 0) sb.append('.');
        sb.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  private static String describe(Class<?> type) {
    if (type == null) return "of the right type";
    if (type == String.class) return "a string";
    if (type == boolean.class || type == Boolean.class) return "true or false";
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) return "a whole number";
    if (java.util.List.class.isAssignableFrom(type)) return "an array";
    if (java.util.Map.class.isAssignableFrom(type) || type.isRecord()) return "an object";
    return "of type " + type.getSimpleName();
  }

  private static String firstLine(String s) {
    if (s == null) return "unreadable";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
