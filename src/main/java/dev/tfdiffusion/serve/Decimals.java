package dev.tfdiffusion.serve;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Floating-point numbers as TFS writes them ({@code WriteDecimal} in util/json_tensor.cc), so clients read the same
 * text from us: six significant digits when they read back exactly, else all the digits the type needs.
 */
final class Decimals {
  /** {@code std::numeric_limits<float>::max_digits10}. */
  private static final int FLOAT_DIGITS = 9;
  /** {@code std::numeric_limits<double>::max_digits10}. */
  private static final int DOUBLE_DIGITS = 17;
  /** {@code absl::StrCat}'s precision: printf's {@code %g} default. */
  private static final int SHORT_DIGITS = 6;

  private Decimals() {}

  static String formatFloat(float v) {
    if (!Float.isFinite(v)) {
      return nonFinite(v);
    }
    String s = g(v, SHORT_DIGITS);
    if (Float.parseFloat(s) != v) {
      s = g(v, FLOAT_DIGITS);
    }
    return wholeAsDecimal(s);
  }

  static String formatDouble(double v) {
    if (!Double.isFinite(v)) {
      return nonFinite(v);
    }
    String s = g(v, SHORT_DIGITS);
    if (Double.parseDouble(s) != v) {
      s = g(v, DOUBLE_DIGITS);
    }
    return wholeAsDecimal(s);
  }

  /** Bare tokens, as rapidjson's reader accepts them (JSON itself has no such numbers). */
  private static String nonFinite(double v) {
    return Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  }

  /** TFS appends ".0" when the text reads as an integer, so a list of floats never looks like ints. */
  private static String wholeAsDecimal(String s) {
    return s.indexOf('.') < 0 && s.indexOf('e') < 0 ? s + ".0" : s;
  }

  /**
   * C's {@code printf("%.<precision>g", v)} for finite {@code v}: rounded half-even on the exact binary value (as
   * glibc and absl's {@code SixDigitsToBuffer} round), fixed notation when the decimal exponent is in
   * [-4, precision), else d.ddde±XX; trailing zeros and a bare point removed. Java's {@code %g} differs (no stripping,
   * other thresholds), hence this.
   */
  static String g(double v, int precision) {
    if (v == 0) {
      return Double.doubleToRawLongBits(v) < 0 ? "-0" : "0";
    }
    BigDecimal rounded = new BigDecimal(Math.abs(v)).round(new MathContext(precision, RoundingMode.HALF_EVEN))
        .stripTrailingZeros();
    String digits = rounded.unscaledValue().toString();
    int exponent = rounded.precision() - rounded.scale() - 1; // of the leading digit
    String sign = v < 0 ? "-" : "";
    if (exponent < -4 || exponent >= precision) {
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      int e = Math.abs(exponent);
      return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
    }
    if (exponent < 0) {
      return sign + "0." + "0".repeat(-exponent - 1) + digits;
    }
    if (digits.length() <= exponent + 1) {
      return sign + digits + "0".repeat(exponent + 1 - digits.length());
    }
    return sign + digits.substring(0, exponent + 1) + "." + digits.substring(exponent + 1);
  }
}
