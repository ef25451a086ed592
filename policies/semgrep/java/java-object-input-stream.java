import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.net.Socket;

public class Deserialize {
    public Object positives(Socket socket, byte[] body) throws IOException, ClassNotFoundException {
        ObjectInputStream in = new ObjectInputStream(socket.getInputStream());
        // ruleid: java-object-input-stream
        Object first = in.readObject();
        // ruleid: java-object-input-stream
        Object second = new ObjectInputStream(new ByteArrayInputStream(body)).readObject();
        // ruleid: java-object-input-stream
        Object third = in.readUnshared();
        return new Object[] {first, second, third};
    }

    public Object negatives(InputStream stream, java.io.DataInputStream data) throws IOException, ClassNotFoundException {
        ObjectInputStream in = new ObjectInputStream(stream);
        in.setObjectInputFilter(ObjectInputFilter.Config.createFilter("com.example.dto.*;!*"));
        // ok: java-object-input-stream
        Object filtered = in.readObject();
        // ok: java-object-input-stream
        int n = data.readInt();
        return filtered;
    }

    public Object alsoNegative(com.fasterxml.jackson.databind.ObjectMapper mapper, byte[] body) throws IOException {
        // ok: java-object-input-stream
        return mapper.readValue(body, Dto.class);
    }

    static class Dto {}
}
