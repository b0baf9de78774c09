package dev.tfdiffusion.serve;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jackson's parse errors told as rapidjson tells them ({@code GetParseError_En} text and the offset its reader stops
 * at), so clients matching TFS's "JSON Parse error: ..." messages match ours. An error without a clear rapidjson
 * counterpart keeps Jackson's first line and offset.
 */
final class ParseErrors {
  private static final Pattern CHAR_CODE = Pattern.compile("\\(code (\\d+)\\)");

  private ParseErrors() {}

  /** "<rapidjson's text> at offset: N" for Jackson's {@code message} at byte {@code offset} of {@code body}. */
  static String rapidJson(String message, long offset, byte[] body) {
    return text(message, body) + " at offset: " + offset(message, offset, body);
  }

  private static String text(String jackson, byte[] body) {
    if (jackson.contains("in VALUE_STRING") || jackson.contains("in field name")) {
      return "Missing a closing quotation mark in string.";
    }
    if (jackson.startsWith("Unexpected end-of-input")) {
      return endOfInput(jackson, lastSignificantByte(body));
    }
    if (jackson.startsWith("Unexpected close marker")) {
      return jackson.contains("expected '}'") ? "Missing a comma or '}' after an object member."
          : jackson.contains("expected ']'") ? "Missing a comma or ']' after an array element." : "Invalid value.";
    }
    if (jackson.contains("was expecting comma to separate Array entries")) {
      return "Missing a comma or ']' after an array element.";
    }
    if (jackson.contains("was expecting comma to separate Object entries")) {
      return "Missing a comma or '}' after an object member.";
    }
    if (jackson.contains("was expecting a colon to separate")) {
      return "Missing a colon after a name of object member.";
    }
    if (jackson.contains("was expecting double-quote to start field name")) {
      return "Missing a name for object member.";
    }
    if (jackson.contains("hex-digit for character escape")) {
      return "Incorrect hex digit after \\u escape in string.";
    }
    if (jackson.startsWith("Unrecognized character escape")) {
      return "Invalid escape character in string.";
    }
    if (jackson.startsWith("Illegal unquoted character")) {
      return "Invalid encoding in string.";
    }
    if (jackson.contains("Decimal point not followed by a digit")) {
      return "Miss fraction part in number.";
    }
    if (jackson.contains("Exponent indicator not followed by a digit")) {
      return "Miss exponent in number.";
    }
    if (jackson.contains("expected a valid value") || jackson.contains("expected a value")
        || jackson.startsWith("Unrecognized token") || jackson.contains("to follow minus sign")
        || jackson.contains("numbers to have plus signs")) {
      return "Invalid value.";
    }
    return jackson.lines().findFirst().orElse(jackson).strip();
  }

  /**
   * What rapidjson's iterative parser reports when the input ends inside a list or object: it depends on the last
   * token read, which Jackson's message leaves out ("within/between Object entries" is after a key or a colon).
   */
  private static String endOfInput(String jackson, int last) {
    if (jackson.contains("Array") || jackson.contains("ARRAY")) {
      return last == '[' || last == ',' ? "Invalid value." : "Missing a comma or ']' after an array element.";
    }
    if (last == '{' || last == ',') {
      return "Missing a name for object member.";
    }
    if (last == ':') {
      return "Invalid value.";
    }
    return last == '"' && jackson.contains("within/between") ? "Missing a colon after a name of object member."
        : "Missing a comma or '}' after an object member.";
  }

  /** Where rapidjson stops: the end of input, an escape's backslash, a literal's first wrong letter, the bad char. */
  private static long offset(String jackson, long offset, byte[] body) {
    if (jackson.startsWith("Unexpected end-of-input") || offset < 0) {
      return body.length;
    }
    if (jackson.startsWith("Unrecognized token")) {
      return literalMismatch(body, (int) offset);
    }
    if (jackson.startsWith("Unrecognized character escape") || jackson.contains("hex-digit for character escape")) {
      for (int i = (int) Math.min(offset, body.length - 1); i >= 0; i--) {
        if (body[i] == '\\') {
          return i;
        }
      }
    }
    Matcher code = CHAR_CODE.matcher(jackson);
    if (code.find() && offset > 0 && offset <= body.length) {
      int c = Integer.parseInt(code.group(1));
      boolean atIt = offset < body.length && body[(int) offset] == c;
      if (!atIt && body[(int) offset - 1] == c) {
        return offset - 1; // Jackson points past the character it read
      }
    }
    return offset;
  }

  /** rapidjson reads true/false/null/NaN/Infinity letter by letter and stops at the first that differs. */
  private static long literalMismatch(byte[] body, int start) {
    if (start >= body.length) {
      return start;
    }
    String literal = switch (body[start]) {
      case 't' -> "true";
      case 'f' -> "false";
      case 'n' -> "null";
      case 'N' -> "NaN";
      case 'I' -> "Infinity";
      default -> null;
    };
    if (literal == null) {
      return start; // not a letter rapidjson starts a value with: it stops right there
    }
    int i = start + 1;
    while (i < body.length && i - start < literal.length() && body[i] == literal.charAt(i - start)) {
      i++;
    }
    return i;
  }

  private static int lastSignificantByte(byte[] body) {
    for (int i = body.length - 1; i >= 0; i--) {
      int b = body[i] & 0xFF;
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return b;
      }
    }
    return -1;
  }
}
