// Parity units by Ozone's own RS coder, for tests/cluster/test_ec_codec.py:
// args: k p; stdin: k lines of hex (the data units, one length); stdout: p
// lines of hex (the parity units).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.HexFormat;
import org.apache.hadoop.hdds.client.ECReplicationConfig;
import org.apache.ozone.erasurecode.rawcoder.RSRawEncoder;

public class EcVectors {
  public static void main(String[] args) throws Exception {
    int k = Integer.parseInt(args[0]);
    int p = Integer.parseInt(args[1]);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    byte[][] data = new byte[k][];
    for (int i = 0; i < k; i++) {
      data[i] = HexFormat.of().parseHex(in.readLine().trim());
    }
    byte[][] parity = new byte[p][data[0].length];
    new RSRawEncoder(new ECReplicationConfig(k, p)).encode(data, parity);
    for (byte[] unit : parity) {
      System.out.println(HexFormat.of().formatHex(unit));
    }
  }
}
