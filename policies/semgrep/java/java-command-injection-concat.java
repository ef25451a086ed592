import java.io.IOException;
import java.util.List;

public class CommandInjection {
    public void positives(String host, String file, String branch) throws IOException {
        // ruleid: java-command-injection-concat
        Runtime.getRuntime().exec("ping -c 1 " + host);
        Runtime rt = Runtime.getRuntime();
        // ruleid: java-command-injection-concat
        rt.exec(String.format("tar xzf %s", file));
        // ruleid: java-command-injection-concat
        new ProcessBuilder("sh", "-c", "git checkout " + branch).start();
        // ruleid: java-command-injection-concat
        rt.exec(new String[] {"/bin/bash", "-c", file});
        // ruleid: java-command-injection-concat
        new ProcessBuilder(List.of("cmd.exe", "/c", file)).start();
    }

    public void negatives(String host, String file) throws IOException {
        // ok: java-command-injection-concat
        Runtime.getRuntime().exec(new String[] {"ping", "-c", "1", host});
        // ok: java-command-injection-concat
        new ProcessBuilder("tar", "xzf", file).start();
        // ok: java-command-injection-concat
        new ProcessBuilder("sh", "-c", "ls -la | wc -l").start();
        // ok: java-command-injection-concat
        Runtime.getRuntime().exec("uptime");
    }
}
