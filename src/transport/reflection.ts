/**
 * Server reflection for the gRPC port (grpcurl list / describe). @grpc/reflection expects a proto-loader
 * PackageDefinition, but reads nothing from it except each entry's serialized FileDescriptorProtos, so an
 * equivalent is built from the protobuf-es file descriptors the generated code already embeds.
 */
import { type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/** collectFiles returns `files` and all their transitive dependencies (well-known types included), once each. */
function collectFiles(files: readonly DescFile[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) {
      return;
    }
    seen.set(file.name, file);
    for (const dependency of file.dependencies) {
      visit(dependency);
    }
  };
  for (const file of files) {
    visit(file);
  }
  return [...seen.values()];
}

/** One PackageDefinition entry per service, each carrying every file the services need. */
function createReflectionPackageDefinition(services: readonly DescService[]): PackageDefinition {
  const files = collectFiles(services.map((service) => service.file));
  const fileDescriptorProtos = files.map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
  const definition: Record<string, unknown> = {};
  for (const service of services) {
    definition[service.typeName] = { format: "FileDescriptorProto", fileDescriptorProtos };
  }
  return definition as PackageDefinition;
}

/** createReflectionService returns the reflection service listing `services` (add it with addToServer). */
export function createReflectionService(services: readonly DescService[]): ReflectionService {
  return new ReflectionService(createReflectionPackageDefinition(services), {
    services: services.map((service) => service.typeName),
  });
}
