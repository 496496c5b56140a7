/**
 * A throw-away PKI for TLS tests, made with the openssl CLI in a temporary folder (no key is committed): a
 * CA, a server certificate for 127.0.0.1 and localhost, a client certificate the CA signed, and a "rogue"
 * client certificate from another CA.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** TestPki reads the files makePki wrote: test-ca.pem, server.pem/.key, caller.pem/.key, rogue.pem/.key. */
export interface TestPki {
  path(file: string): string;
  read(file: string): Buffer;
}

/** makePki creates a CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a rogue client. */
export function makePki(dir: string): TestPki {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const key = (name: string) =>
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
  const ca = (name: string) => {
    key(name);
    openssl(
      "req",
      "-x509",
      "-new",
      "-key",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
    );
  };
  const leaf = (name: string, caName: string, extensions: string) => {
    key(name);
    openssl("req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${caName}.pem`,
      "-CAkey",
      `${caName}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    );
  };
  ca("test-ca");
  ca("rogue-ca");
  leaf("server", "test-ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  leaf("caller", "test-ca", "extendedKeyUsage=clientAuth\n");
  leaf("rogue", "rogue-ca", "extendedKeyUsage=clientAuth\n");
  const read = (file: string) => readFileSync(join(dir, file));
  return { path: (file: string) => join(dir, file), read };
}
