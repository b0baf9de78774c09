package dev.tfdiffusion.cli;

import java.math.BigDecimal;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Number options in words a user knows: "'abc' is not a whole number", "'99999999999' is too large (at most
 * 2147483647)", instead of picocli's "is not an int".
 */
final class Numbers {
  private Numbers() {}

  static void register(CommandLine cli) {
    ITypeConverter<Integer> ints = v -> (int) whole(v, Integer.MIN_VALUE, Integer.MAX_VALUE);
    ITypeConverter<Long> longs = v -> whole(v, Long.MIN_VALUE, Long.MAX_VALUE);
    ITypeConverter<Double> doubles = Numbers::decimal;
    ITypeConverter<Float> floats = v -> {
      double d = decimal(v);
      if (Double.isFinite(d) && Math.abs(d) > Float.MAX_VALUE) {
        throw new TypeConversionException("'" + v + "' is too large for a 32-bit number.");
      }
      return (float) d;
    };
    cli.registerConverter(Integer.class, ints).registerConverter(Integer.TYPE, ints)
        .registerConverter(Long.class, longs).registerConverter(Long.TYPE, longs)
        .registerConverter(Double.class, doubles).registerConverter(Double.TYPE, doubles)
        .registerConverter(Float.class, floats).registerConverter(Float.TYPE, floats);
  }

  /** {@code value} as a whole number within [min, max], or picocli's conversion error in these words. */
  static long whole(String value, long min, long max) {
    BigDecimal d;
    try {
      d = new BigDecimal(value.strip());
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not a whole number.");
    }
    if (d.stripTrailingZeros().scale() > 0) {
      throw new TypeConversionException("'" + value + "' is not a whole number.");
    }
    if (d.compareTo(BigDecimal.valueOf(max)) > 0) {
      throw new TypeConversionException("'" + value + "' is too large (at most " + max + ").");
    }
    if (d.compareTo(BigDecimal.valueOf(min)) < 0) {
      throw new TypeConversionException("'" + value + "' is too small (at least " + min + ").");
    }
    return d.longValueExact();
  }

  private static double decimal(String value) {
    try {
      return Double.parseDouble(value.strip());
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not a number.");
    }
  }
}
