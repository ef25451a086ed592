import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.apache.commons.codec.digest.DigestUtils;

public class WeakHash {
    public byte[] positives(String password, byte[] body) throws NoSuchAlgorithmException {
        // ruleid: java-weak-hash-md5-sha1
        MessageDigest md = MessageDigest.getInstance("MD5");
        // ruleid: java-weak-hash-md5-sha1
        byte[] sig = MessageDigest.getInstance("SHA-1").digest(body);
        // ruleid: java-weak-hash-md5-sha1
        String hex = DigestUtils.md5Hex(password);
        return md.digest(password.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] negatives(byte[] body, String algorithm) throws NoSuchAlgorithmException {
        // ok: java-weak-hash-md5-sha1
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        // ok: java-weak-hash-md5-sha1
        MessageDigest other = MessageDigest.getInstance(algorithm);
        // ok: java-weak-hash-md5-sha1
        String hex = DigestUtils.sha256Hex(body);
        return md.digest(body);
    }
}
