package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** TFS's WriteDecimal: printf %g, 6 digits or all the type needs, ".0" for whole numbers, bare NaN/Infinity. */
class FloatFormatTest {
  /** Checks the text, and that it reads back as the same value (sign of zero included). */
  private static void assertFloat(String text, float v) {
    assertEquals(text, TensorJson.formatFloat(v), () -> "formatFloat(" + v + ")");
    if (!Float.isNaN(v)) {
      float back = Float.parseFloat(text);
      assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits(back), () -> text + " reads back as " + back);
    }
  }

  private static void assertDouble(String text, double v) {
    assertEquals(text, TensorJson.formatDouble(v), () -> "formatDouble(" + v + ")");
    assertEquals(Double.doubleToRawLongBits(v), Double.doubleToRawLongBits(Double.parseDouble(text)));
  }

  @Test
  void floatsAsTfsWritesThem() {
    assertFloat("1.0", 1f);
    assertFloat("0.1", 0.1f);
    assertFloat("0.3", 0.3f);
    assertFloat("9e+06", 9_000_000f);
    assertFloat("3e-05", 3e-5f);
    assertFloat("0.123456791", 0.123456789f);
    assertFloat("1e-10", 1e-10f);
    assertFloat("123456.0", 123456f);
    assertFloat("1234567.0", 1234567f);
    assertFloat("16777216.0", 16777216f);
    assertFloat("100.0", 100f);
    assertFloat("1e+06", 1e6f);
    assertFloat("999999.0", 999999f);
    assertFloat("0.0001", 1e-4f);
    assertFloat("1e-05", 1e-5f);
    assertFloat("3.5", 3.5f);
    assertFloat("-1.0", -1f);
    assertFloat("-2.5", -2.5f);
    assertFloat("-0.123456791", -0.123456789f);
    assertFloat("-9e+06", -9_000_000f);
    assertFloat("0.0", 0f);
    assertFloat("-0.0", -0f);
    assertFloat("1.4013e-45", Float.MIN_VALUE);
    assertFloat("3.40282347e+38", Float.MAX_VALUE);
    assertFloat("-3.40282347e+38", -Float.MAX_VALUE);
    assertFloat("Infinity", Float.POSITIVE_INFINITY);
    assertFloat("-Infinity", Float.NEGATIVE_INFINITY);
    assertFloat("NaN", Float.NaN);
  }

  @Test
  void doublesUseSeventeenDigitsWhenSixDoNotReadBack() {
    assertDouble("0.1", 0.1);
    assertDouble("0.33333333333333331", 1.0 / 3);
    assertDouble("123456789.0", 123456789.0);
    assertDouble("1e+100", 1e100);
    assertDouble("4.94066e-324", Double.MIN_VALUE);
    assertDouble("1.7976931348623157e+308", Double.MAX_VALUE);
    assertDouble("-0.0", -0.0);
    assertEquals("NaN", TensorJson.formatDouble(Double.NaN));
    assertEquals("-Infinity", TensorJson.formatDouble(Double.NEGATIVE_INFINITY));
  }

  @Test
  void percentGIsCs() {
    // fixed from 1e-4 up to 10^precision, exponent with a sign and two digits, trailing zeros gone
    assertEquals("100000", Decimals.g(100000, 6));
    assertEquals("1e+06", Decimals.g(999999.5, 6));
    assertEquals("0.0001", Decimals.g(0.0001, 6));
    assertEquals("1e-05", Decimals.g(0.00001, 6));
    assertEquals("123.456", Decimals.g(123.456, 6));
    assertEquals("1.5e+300", Decimals.g(1.5e300, 6));
    assertEquals("1.23457e-300", Decimals.g(1.234567e-300, 6));
    // exact ties round to even, as glibc and absl do
    assertEquals("1.23456e+06", Decimals.g(1234565, 6));
    assertEquals("1.23458e+06", Decimals.g(1234575, 6));
    assertEquals("2", Decimals.g(2.5, 1));
    assertEquals("4", Decimals.g(3.5, 1));
    assertEquals("-0", Decimals.g(-0.0, 6));
  }
}
