package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.cli.Main;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page at {@code /} in a real headless browser (Debian's Chromium, which {@code .ci/run} installs): fill the
 * fields, click, wait for the picture; the same seed must give the same bytes, another seed others. Without the
 * browser on the machine the test is reported as skipped, never passed.
 */
class ServePageBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path DRIVER = Path.of("/usr/bin/chromedriver");

  @TempDir
  Path dir;

  @Test
  void drawingTwiceWithOneSeedGivesTheSamePicture() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "needs Debian's chromium and chromium-driver (.ci/run installs them)");
    Path run = dir.resolve("run");
    assertEquals(0, Main.run("train", "--features", "4", "--steps", "2", "--quiet", "--out", run.toString()));
    try (ModelServer server = ModelServer.start(run.resolve("saved_model"), new ModelServer.Options("digits",
        "127.0.0.1", 0, 16 << 20, 64, 2, 2, 30_000), SessionOptions.create(Compute.DEFAULT, 0))) {
      ChromeOptions options = new ChromeOptions();
      options.setBinary(CHROMIUM.toFile());
      options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
      // the system's driver, so that Selenium never looks for one online
      ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
          .usingAnyFreePort().build();
      WebDriver browser = new ChromeDriver(service, options);
      try {
        String base = "http://127.0.0.1:" + server.port();
        browser.get(base + "/");
        String first = draw(browser, "4", "3", "ddim", "5", false);
        String again = draw(browser, "4", "3", "ddim", "5", false);
        String other = draw(browser, "4", "4", "ddim", "5", false);
        assertEquals(first, again, "same seed, same bytes");
        assertNotEquals(first, other, "another seed, another picture");
        HttpResponse<byte[]> direct = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base
            + "/v1/models/digits/samples.png?count=4&seed=3&sampler=ddim&steps=5")).build(),
            HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(first, Base64.getEncoder().encodeToString(direct.body()), "the page shows samples.png");

        draw(browser, "2", "1", "ddpm", null, true);
        WebElement animation = browser.findElement(By.id("animation"));
        assertTrue(animation.isDisplayed());
        Number width = (Number) ((JavascriptExecutor) browser).executeScript(
            "return document.getElementById('animation').naturalWidth;");
        assertTrue(width.intValue() > 0, "the animation loaded");

        // a request the server refuses (its --max-batch is 64 here; the form allows 256) shows the server's sentence
        setField(browser, "count", "100");
        browser.findElement(By.id("draw")).click();
        waitDone(browser);
        assertEquals("'count' must be a whole number from 1 to 64, got '100'.",
            browser.findElement(By.id("status")).getText());
      } finally {
        browser.quit();
      }
    }
  }

  /** Fills the form, clicks Draw, waits for the picture; returns the grid's bytes as the browser got them. */
  private static String draw(WebDriver browser, String count, String seed, String sampler, String steps,
                             boolean animate) {
    setField(browser, "count", count);
    setField(browser, "seed", seed);
    new Select(browser.findElement(By.id("sampler"))).selectByValue(sampler);
    if (steps != null) {
      setField(browser, "steps", steps);
    }
    WebElement box = browser.findElement(By.id("animate"));
    if (box.isSelected() != animate) {
      box.click();
    }
    browser.findElement(By.id("draw")).click();
    waitDone(browser);
    assertEquals("done", browser.findElement(By.id("status")).getText());
    return (String) ((JavascriptExecutor) browser).executeAsyncScript(
        "const done = arguments[arguments.length - 1];"
            + "fetch(document.getElementById('grid').src).then(r => r.arrayBuffer()).then(b => {"
            + "  let s = ''; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); done(btoa(s)); });");
  }

  private static void setField(WebDriver browser, String id, String value) {
    WebElement field = browser.findElement(By.id(id));
    field.clear();
    field.sendKeys(value);
  }

  private static void waitDone(WebDriver browser) {
    new WebDriverWait(browser, Duration.ofSeconds(60)).until(b -> "true".equals(
        b.findElement(By.id("grid")).getAttribute("data-done")));
  }
}
