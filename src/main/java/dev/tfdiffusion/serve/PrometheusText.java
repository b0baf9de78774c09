package dev.tfdiffusion.serve;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Comparator;
import java.util.List;

/**
 * The pieces of TensorFlow Serving's Prometheus page (util/prometheus_exporter.cc) that are not about which metrics
 * exist: how names, label values and numbers are spelled, and the order series come in. Kept apart from
 * {@link Metrics} so each rule can be tested against the exporter's own test cases.
 */
final class PrometheusText {
  private static final MathContext SIX_DIGITS = new MathContext(6, RoundingMode.HALF_EVEN);

  /**
   * Order of strings as C++ {@code std::string} compares them: by unsigned UTF-8 bytes, which is Unicode code point
   * order. TensorFlow keeps metrics in a {@code std::map} by name and each metric's cells in a {@code std::map} by
   * label values, so this is the order TFS prints them in. ({@link String#compareTo} compares UTF-16 units, which
   * differs for characters above U+FFFF.)
   */
  static final Comparator<String> CODE_POINT_ORDER = PrometheusText::compareCodePoints;

  /** Order of label value tuples: element by element, as {@code std::array}'s {@code operator<}. */
  static final Comparator<List<String>> LABEL_VALUES_ORDER = PrometheusText::compareLabelValues;

  private PrometheusText() {}

  /**
   * The Prometheus name of a TensorFlow metric: every character outside {@code [a-zA-Z0-9_]} becomes {@code ':'}, and
   * a leading digit gets a {@code '_'} in front, as the exporter's {@code GetPrometheusMetricName}.
   */
  static String metricName(String tensorflowName) {
    return leadingDigitGuarded(replaceOutside(tensorflowName, true, ':'));
  }

  /**
   * A label name made valid, as the exporter's {@code SanatizeLabelName}:
   * {@code [^a-zA-Z0-9]} to '_', and no leading digit.
   */
  static String labelName(String name) {
    return leadingDigitGuarded(replaceOutside(name, false, '_'));
  }

  /**
   * A label value escaped for the text inside its double quotes: {@code \} and {@code "} as TFS escapes them, and also
   * a line feed as {@code \n}. TFS leaves a line feed raw, which would end the sample line early and break the page,
   * so this one rule follows the Prometheus text format instead; every value without a line feed is printed as TFS
   * prints it.
   */
  static String escapeLabelValue(String value) {
    StringBuilder out = new StringBuilder(value.length() + 8);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '"' -> out.append("\\\"");
        case '\n' -> out.append("\\n");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** {@code name1="value1",name2="value2"}: the labels of one series, in the metric's declared label order. */
  static String labels(List<String> names, List<String> values) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < names.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append(labelName(names.get(i))).append("=\"").append(escapeLabelValue(values.get(i))).append('"');
    }
    return out.toString();
  }

  /**
   * A double as {@code absl::StrCat} prints it (absl's SixDigitsToBuffer, the same as C's {@code %g}): 6 significant
   * digits, rounded half to even on exact ties, trailing zeros dropped, and an exponent form {@code 1.27482e+06} when
   * the decimal exponent is below -4 or above 5. TFS prints histogram bucket limits and {@code _sum} this way.
   */
  static String number(double value) {
    if (Double.isNaN(value)) {
      return "nan";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "inf" : "-inf";
    }
    if (value == 0) {
      return Double.doubleToRawLongBits(value) < 0 ? "-0" : "0";
    }
    BigDecimal rounded = new BigDecimal(value).round(SIX_DIGITS);
    int exponent = rounded.precision() - rounded.scale() - 1;
    if (exponent >= -4 && exponent < 6) {
      return rounded.stripTrailingZeros().toPlainString();
    }
    return rounded.movePointLeft(exponent).stripTrailingZeros().toPlainString() + exponentSuffix(exponent);
  }

  /** {@code e+06}, {@code e-05}, {@code e+100}: sign always, at least two digits, as printf. */
  private static String exponentSuffix(int exponent) {
    int magnitude = Math.abs(exponent);
    return (exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + magnitude;
  }

  private static String replaceOutside(String name, boolean keepUnderscore, char replacement) {
    StringBuilder out = new StringBuilder(name.length());
    name.codePoints().forEach(c -> out.append(isNameChar(c, keepUnderscore) ? (char) c : replacement));
    return out.toString();
  }

  private static boolean isNameChar(int c, boolean underscore) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (underscore && c == '_');
  }

  private static String leadingDigitGuarded(String name) {
    return !name.isEmpty() && name.charAt(0) >= '0' && name.charAt(0) <= '9' ? "_" + name : name;
  }

  private static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  private static int compareLabelValues(List<String> a, List<String> b) {
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      int order = compareCodePoints(a.get(i), b.get(i));
      if (order != 0) {
        return order;
      }
    }
    return Integer.compare(a.size(), b.size());
  }
}
