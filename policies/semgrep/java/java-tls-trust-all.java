import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.apache.http.conn.ssl.NoopHostnameVerifier;

public class TrustAll {
    static class TrustEverything implements X509TrustManager {
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        // ruleid: java-tls-trust-all
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
    }

    TrustManager[] positives(HttpsURLConnection conn, okhttp3.OkHttpClient.Builder builder) {
        // ruleid: java-tls-trust-all
        conn.setHostnameVerifier((hostname, session) -> true);
        // ruleid: java-tls-trust-all
        builder.hostnameVerifier((host, sslSession) -> true);
        // ruleid: java-tls-trust-all
        Object verifier = NoopHostnameVerifier.INSTANCE;
        HttpsURLConnection.setDefaultHostnameVerifier(new HostnameVerifier() {
            // ruleid: java-tls-trust-all
            @Override
            public boolean verify(String hostname, SSLSession session) {
                return true;
            }
        });
        return new TrustManager[] {
            new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {}

                // ruleid: java-tls-trust-all
                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {}

                public X509Certificate[] getAcceptedIssuers() { return null; }
            }
        };
    }

    static class PinningTrustManager implements X509TrustManager {
        private final X509TrustManager delegate;

        PinningTrustManager(X509TrustManager delegate) { this.delegate = delegate; }

        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        // ok: java-tls-trust-all
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
        }

        public X509Certificate[] getAcceptedIssuers() { return delegate.getAcceptedIssuers(); }
    }

    void negatives(HttpsURLConnection conn, HostnameVerifier strict) {
        // ok: java-tls-trust-all
        conn.setHostnameVerifier(strict);
        // ok: java-tls-trust-all
        conn.setHostnameVerifier((hostname, session) -> hostname.equals("api.example.com"));
    }

    static class OnlyOurHost implements HostnameVerifier {
        // ok: java-tls-trust-all
        public boolean verify(String hostname, SSLSession session) { return "api.example.com".equals(hostname); }
    }
}
